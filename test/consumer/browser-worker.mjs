import { run } from './app.mjs';
self.onmessage = async () => {
  try {
    self.postMessage(await run());
  } catch (error) {
    self.postMessage({ error: String((error && error.stack) || error) });
  }
};
