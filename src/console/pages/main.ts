/** Entry of every page: runs the module of the page <main data-page> names. */
import { byId, errorNotice, mainArea } from "./dom.js";

const PAGES: Record<string, () => Promise<{ render(main: ReturnType<typeof mainArea>): Promise<void> }>> = {
  connection: () => import("./connection.js"),
  tenants: () => import("./tenants.js"),
  apps: () => import("./apps.js"),
  sync: () => import("./sync.js"),
  catalog: () => import("./catalog.js"),
  inventory: () => import("./inventory.js"),
  diagnostics: () => import("./diagnostics.js"),
};

async function start(): Promise<void> {
  const name = byId("main").dataset["page"] ?? "";
  const main = mainArea();
  try {
    const page = PAGES[name];
    if (page === undefined) throw new Error(`No page "${name}".`);
    await (await page()).render(main);
  } catch (e) {
    main.append(errorNotice(e));
  } finally {
    main.setAttribute("data-ready", "true");
  }
}

void start();
