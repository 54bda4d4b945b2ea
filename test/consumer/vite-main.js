// The page of the Vite-built consumer app: runs the app in a module Web Worker (threads need a
// thread that may block) and leaves the result on window for the test to read.
const worker = new Worker(new URL('./browser-worker.mjs', import.meta.url), { type: 'module' });
window.appResult = new Promise((resolve) => {
  worker.onmessage = (event) => resolve(event.data);
  worker.onerror = (event) => resolve({ error: event.message || 'worker error' });
});
worker.postMessage('go');
