// A preload (`node --import …/module-log.js`): with MODULE_LOG_FILE set, every module the process resolves (static or
// dynamic import) is appended to that file as a URL, one per line. Tests use it to prove what a run never loads.
import { register } from "node:module";

const file = process.env["MODULE_LOG_FILE"];
if (file !== undefined && file !== "") register(new URL("./module-log-hooks.js", import.meta.url), { data: { file } });
