/**
 * What an admin needs to create the app registration (docs/reference/entra-auth.md §4.4 requiredResourceAccess, §4.5
 * Azure CLI steps, §4.3 admin-consent URL). Pure text composition.
 */
import { adminConsentUrl, CLOUD_PRESETS, resolveEndpoints } from "./clouds.js";
import type { CloudName } from "./clouds.js";
import { GRAPH_APP_ID, REQUIRED_PERMISSIONS, requiredResourceAccess } from "./permissions.js";

export interface SetupInput {
  cloud: CloudName;
  /** display name of the app registration */
  name: string;
  tenant: string | undefined;
  clientId: string | undefined;
  /** the public certificate file to upload, when certificate auth is chosen */
  certificateFile: string | undefined;
  /** the certificate + private key file the profile signs in with (beside `certificateFile`) */
  privateKeyFile?: string | undefined;
  profile: string;
}

export interface SetupPlan {
  requiredResourceAccess: ReturnType<typeof requiredResourceAccess>;
  /** bash script for the Azure CLI, or undefined for clouds it does not serve (custom, local) */
  azureCliScript: string | undefined;
  /** admin-consent URL (placeholders when tenant or client id are unknown) */
  adminConsentUrl: string | undefined;
  notes: string[];
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function setupPlan(input: SetupInput): SetupPlan {
  const preset = CLOUD_PRESETS[input.cloud];
  const rra = requiredResourceAccess();
  const notes: string[] = [];
  let consent: string | undefined;
  if (preset.authorityHost !== undefined) {
    const tenant = input.tenant ?? "contoso.onmicrosoft.com";
    const ep = resolveEndpoints({ cloud: input.cloud, tenant });
    consent = adminConsentUrl(ep, input.clientId ?? "00000000-0000-0000-0000-000000000000");
    if (input.tenant === undefined || input.clientId === undefined) {
      notes.push("Replace the tenant and client_id in the consent URL (or pass --tenant and --client-id).");
    }
    notes.push(
      "The consent URL needs a redirect URI registered on the app (https://localhost by default); the Azure CLI script grants consent without one.",
    );
  } else {
    notes.push(
      `The ${input.cloud} cloud has no Azure CLI cloud name or fixed authority: create the registration in that environment's tools.`,
    );
  }
  if (preset.azureCliCloud === undefined)
    return { requiredResourceAccess: rra, azureCliScript: undefined, adminConsentUrl: consent, notes };

  const tenantArg = input.tenant === undefined ? '"$TENANT"' : shellQuote(input.tenant);
  const initArgs = [
    "connect init",
    `--profile ${shellQuote(input.profile)}`,
    `--cloud ${input.cloud}`,
    `--tenant ${tenantArg}`,
    '--client-id "$APP_ID"',
  ];
  const lines = [
    "#!/usr/bin/env bash",
    `# Creates the intune-publisher app registration in the ${preset.label} cloud and its profile.`,
    "# Run as an administrator who can grant admin consent (Global Administrator or Privileged Role Administrator).",
    "set -euo pipefail",
    ...(input.tenant === undefined ? ['TENANT="${TENANT:?set TENANT to your tenant ID or domain}"'] : []),
    "",
    "# intune-publisher: the command on PATH, else through npx (a clone after `npm ci`, or the npm package).",
    "intune_publisher() {",
    '  if command -v intune-publisher >/dev/null 2>&1; then intune-publisher "$@"; else npx --no-install intune-publisher "$@"; fi',
    "}",
    "if ! intune_publisher --version >/dev/null 2>&1; then",
    "  echo 'intune-publisher is not installed: run this script in a clone of the repository after `npm ci`, or run `npm install -g intune-publisher` first.' >&2",
    "  exit 1",
    "fi",
    "",
    `az cloud set --name ${preset.azureCliCloud}`,
    `az login --tenant ${tenantArg} --allow-no-subscriptions`,
    "",
    "# The six Microsoft Graph application permissions (requiredResourceAccess).",
    "cat > required-resource-accesses.json <<'JSON'",
    JSON.stringify(rra, null, 2),
    "JSON",
    "",
    `APP_ID=$(az ad app create --display-name ${shellQuote(input.name)} --sign-in-audience AzureADMyOrg \\`,
    "  --required-resource-accesses @required-resource-accesses.json --query appId -o tsv)",
    "# Creating the app does not create its service principal (AADSTS7000229 otherwise).",
    'az ad sp create --id "$APP_ID" >/dev/null',
    "",
    "# Grant admin consent; retry while the new service principal replicates.",
    "for attempt in 1 2 3 4 5 6; do",
    '  if az ad app permission admin-consent --id "$APP_ID"; then break; fi',
    '  if [ "$attempt" = 6 ]; then echo "admin consent failed" >&2; exit 1; fi',
    "  sleep 20",
    "done",
    "",
  ];
  if (input.certificateFile !== undefined) {
    const key = input.privateKeyFile ?? input.certificateFile.replace(/\.cer$/i, ".pem");
    lines.push(
      "# Upload the public certificate (the private key stays with you).",
      `az ad app credential reset --id "$APP_ID" --append --cert @${shellQuote(input.certificateFile)} >/dev/null`,
      `echo "Client ID: $APP_ID"`,
      "",
      "# The profile signs in with the certificate and its private key.",
      `intune_publisher ${[...initArgs, `--certificate ${shellQuote(key)}`].join(" ")}`,
    );
  } else {
    lines.push(
      "# A secret valid for one year, stored straight in intune-publisher's 0600 secret file (it is never printed);",
      "# the profile records its expiry, so `connect test` warns 30 days ahead.",
      "EXPIRES=$(date -u -d '+1 year' +%Y-%m-%d 2>/dev/null || date -u -v+1y +%Y-%m-%d)",
      `az ad app credential reset --id "$APP_ID" --append --display-name intune-publisher --end-date "$EXPIRES" --query password -o tsv \\`,
      `  | intune_publisher ${[...initArgs, "--secret-stdin", '--secret-expires-on "$EXPIRES"'].join(" ")}`,
      `echo "Client ID: $APP_ID"`,
    );
  }
  lines.push(
    "",
    "# New credentials take a minute or two to work everywhere: retry `connect test` if it fails at once.",
  );
  lines.push(`intune_publisher connect test --profile ${shellQuote(input.profile)}`);
  return { requiredResourceAccess: rra, azureCliScript: lines.join("\n") + "\n", adminConsentUrl: consent, notes };
}

/** `az ad app permission add` lines, for adding the permissions to an existing app (§4.5 step 5). */
export function permissionAddCommand(clientId = "$APP_ID"): string {
  return `az ad app permission add --id "${clientId}" --api ${GRAPH_APP_ID} --api-permissions ${REQUIRED_PERMISSIONS.map((p) => `${p.id}=Role`).join(" ")}`;
}
