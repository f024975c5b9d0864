/** Apps: the tenant's Win32 apps (`apps list`): ours with their definition id and place among its versions. */
import type { AppsResponse } from "../api.js";
import { api, h, table } from "./dom.js";
import type { El } from "./dom.js";

export async function render(main: El): Promise<void> {
  const data = await api<AppsResponse>("/api/apps");
  const ours = data.apps.filter((a) => a.definitionId !== undefined);
  const others = data.apps.filter((a) => a.definitionId === undefined);
  const row = (a: AppsResponse["apps"][number]): (El | string)[] => [
    a.displayName,
    a.displayVersion || "–",
    a.definitionId ?? "–",
    a.status,
    a.publishingState,
    h("code", {}, a.appId),
  ];
  const head = ["Name", "Version", "Definition", "Status", "State", "App id"];
  main.append(
    h("p", {}, `Tenant ${data.target.tenantId} (${data.target.source}): ${data.apps.length} Win32 apps.`),
    table(`Published by intune-publisher (${ours.length})`, head, ours.map(row), { id: "apps-ours" }),
    table(`Other Win32 apps (${others.length})`, head, others.map(row), { id: "apps-others" }),
  );
}
