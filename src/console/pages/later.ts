/** The pages not built yet: what each will show, so that the navigation is complete. */
import { h, win } from "./dom.js";
import type { El } from "./dom.js";

const PLANS: Record<string, { intro: string; items: string[]; cli: string }> = {
  "/catalog": {
    intro: "This page will search the catalog and manage subscriptions.",
    items: [
      "Search, a product's chosen installer and the app definition it becomes.",
      "Subscribe with targeting and mode (application or update only); edit overrides.",
      "The newest version against the published one, per product.",
    ],
    cli: "intune-publisher catalog search TEXT, intune-publisher catalog show ID",
  },
  "/inventory": {
    intro: "This page will show the apps installed on the tenant's devices.",
    items: [
      "Products by device count, with their matched catalog product.",
      "Outdated versions against the catalog's newest.",
      "Auto-publish thresholds.",
    ],
    cli: "intune-publisher inventory",
  },
};

export async function render(main: El): Promise<void> {
  const plan = PLANS[win.location.pathname];
  if (plan === undefined) return;
  main.append(
    h("p", {}, plan.intro, " It is not built yet; until then the CLI does it."),
    h("ul", {}, ...plan.items.map((i) => h("li", {}, i))),
    h("p", {}, "Today: ", h("code", {}, plan.cli), "."),
  );
}
