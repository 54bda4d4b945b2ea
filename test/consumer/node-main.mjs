import { run } from './app.mjs';
console.log(JSON.stringify(await run()));
