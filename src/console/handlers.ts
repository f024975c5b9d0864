/**
 * The console's API handlers: each validates its input with the schemas of api.ts and calls the same use case as
 * the CLI command it mirrors (connect init → saveProfileDraft, connect test → testTarget, apps list → listApps,
 * rollback → rollback). Nothing here decides what the CLI would decide differently.
 */
import { existsSync } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import type { ServerResponse } from "node:http";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { CLOUD_NAMES, CLOUD_PRESETS } from "../core/config/clouds.js";
import { defaultSecretFile } from "../core/config/profile.js";
import type { CredentialConfig, SettingsFlags } from "../core/config/profile.js";
import { PublisherError } from "../core/errors.js";
import { readStamp } from "../core/app-definition/stamp.js";
import { assignmentLabel } from "../core/targeting/assignments.js";
import { describeLink, outgoingLinks } from "../core/targeting/relationships.js";
import { listApps, showApp } from "../publish/apps.js";
import { rollback } from "../publish/rollback.js";
import { publish } from "../publish/publish.js";
import type { PublishOptions } from "../publish/publish.js";
import { defaultHistoryFile, recordPublishRun, SyncHistory } from "../publish/sync/history.js";
import { loadAppDefinitions } from "../definitions/load.js";
import { defaultLogDir } from "../clients/http/log-file.js";
import { scrubShapes } from "../clients/http/redact.js";
import { packageVersion } from "../clients/http/user-agent.js";
import { homeFolder, userStateDir } from "../core/config/dirs.js";
import { PublishRuns } from "./runs.js";
import { startLogResponse, streamLogs } from "./log-stream.js";
import type { LogSource } from "./log-stream.js";
import { CatalogHandlers } from "./catalog-handlers.js";
import { parseRequest } from "./handler-common.js";
import type { HandlerContext, HandlerResult } from "./handler-common.js";
import type { RunEvent } from "./runs.js";
import type { DownloadEvent } from "../catalog/download/downloader.js";
import { changeText } from "../core/plan/changes.js";
import { runSubscriptionsSync, withSyncLock } from "../publish/sync/run.js";
import { loadSubscriptions } from "../publish/sync/subscriptions.js";
import { definitionIdFor } from "../catalog/to-definition.js";
import { formatMb } from "../publish/sync/sync.js";
import type { SyncResult } from "../publish/sync/sync.js";
import { rollbackReport } from "../publish/rollback-report.js";
import { removeApps } from "../publish/remove.js";
import { removalReport } from "../publish/removal-report.js";
import { pathsFor, readProfilesFile } from "../publish/connect/config-store.js";
import { saveProfileDraft } from "../publish/connect/profile-draft.js";
import { collectSupportBundle, zipEntries } from "../publish/diagnostics.js";
import { testProfileDraft, testTarget } from "../publish/connect/test-target.js";
import { buildProfile } from "../publish/connect/profile-draft.js";
import type { ProfileDraft } from "../publish/connect/profile-draft.js";
import { storeUploadedCertificate } from "../publish/connect/uploaded-certificate.js";
import type { CertificateUpload } from "../publish/connect/uploaded-certificate.js";
import { openGraphSession, resolveTarget } from "../publish/target.js";
import type { GraphSession, ResolvedTarget, TargetInput } from "../publish/target.js";
import { connectionFormSchema, profileRefSchema, publishRequestSchema, rollbackRequestSchema } from "./api.js";
import { INVENTORY_MAX_AGE_DEFAULT } from "../publish/inventory-report.js";
import { removeRequestSchema, syncRequestSchema, tenantRefSchema, testDraftSchema, testTenantSchema } from "./api.js";
import { TenantsHandlers } from "./tenants-handlers.js";
import type {
  ConnectionForm,
  ApplyResponse,
  DiagnosticsResponse,
  HistoryResponse,
  PlanResponse,
  PublishRequest,
  AppDetailResponse,
  AppsResponse,
  RollbackRequest,
  RollbackResponse,
  RemoveRequest,
  RemoveResponse,
  ErrorResponse,
  SyncPlanResponse,
  SyncRequest,
  CloudView,
  ProfilesResponse,
  ProfileView,
  SaveResponse,
  TestResponse,
} from "./api.js";

export type { HandlerContext, HandlerResult } from "./handler-common.js";

/** A run's log (GET /api/sync/log): the runs looked up (its size bound: LOG_SEND_MAX_BYTES, log-stream.ts). */
const SYNC_LOG_RUNS = 100;
/** what Show log says of a run made with `--no-log-file` */
export const NO_LOG_KEPT = "this run was made with --no-log-file: no log was kept";
/** lines this close before the run's start or after its end belong to it (sign-in, the summary) */
const SYNC_LOG_SLACK_MS = 2000;

const parse = parseRequest;

export class ConsoleHandlers {
  /** the profile the pages act on; null: the local tenant */
  private current: string | null | undefined;
  private readonly controllers = new Set<AbortController>();
  private readonly runs = new PublishRuns();

  /** the Catalog and Inventory pages' routes (catalog-handlers.ts) */
  private readonly catalog: CatalogHandlers;
  /** the tenants switcher and overview (tenants-handlers.ts) */
  private readonly tenants: TenantsHandlers;

  constructor(private readonly c: HandlerContext) {
    this.catalog = new CatalogHandlers(c, (fn) => this.withGraph(fn));
    this.tenants = new TenantsHandlers(
      c,
      this.runs,
      () => this.userState(),
      () => ({ ...this.targetInput(null), flags: {} }),
    );
  }

  close(): void {
    for (const a of this.controllers) a.abort();
    this.tenants.close();
    this.runs.close();
  }

  async handle(route: string, query: URLSearchParams, body: unknown, res: ServerResponse): Promise<HandlerResult> {
    switch (route) {
      case "GET /api/profiles":
        return { body: await this.profiles() };
      case "POST /api/profiles":
        return { body: await this.save(body) };
      case "POST /api/profiles/select": {
        const ref = parse(profileRefSchema, body);
        if (ref.profile !== null) await this.profileNamed(ref.profile);
        this.current = ref.profile;
        this.tenants.clear();
        return { body: await this.profiles() };
      }
      case "POST /api/connection/test": {
        // A draft's own field errors name the field (a union's error would not).
        if (typeof body === "object" && body !== null && "draft" in body)
          return { body: await this.testDraft(parse(testDraftSchema, body).draft) };
        if (typeof body === "object" && body !== null && "tenant" in body) {
          const a = this.track();
          try {
            return { body: await this.tenants.test(parse(testTenantSchema, body).tenant, a.signal) };
          } finally {
            this.controllers.delete(a);
          }
        }
        return { body: await this.test(parse(profileRefSchema, body).profile) };
      }
      case "GET /api/apps":
        return { body: await this.apps() };
      case "GET /api/apps/detail":
        return { body: await this.detail(query.get("app") ?? "") };
      case "POST /api/apps/rollback":
        return { body: await this.rollback(parse(rollbackRequestSchema, body)) };
      case "POST /api/apps/remove":
        return { body: await this.remove(parse(removeRequestSchema, body)) };
      case "POST /api/publish/plan":
        return { body: await this.plan(parse(publishRequestSchema, body)) };
      case "POST /api/publish/apply":
        return { body: await this.apply(parse(publishRequestSchema, body)) };
      case "GET /api/publish/events":
        return this.runs.follow(query.get("run") ?? "", res) ? "streamed" : undefined;
      case "POST /api/sync/plan":
        return { body: await this.syncPlan(parse(syncRequestSchema, body)) };
      case "POST /api/sync/apply":
        return { body: await this.syncApply(parse(syncRequestSchema, body)) };
      case "GET /api/sync/history":
        return { body: this.history() };
      case "GET /api/sync/log":
        await this.syncLog(query.get("run") ?? "", res);
        return "streamed";
      case "GET /api/diagnostics/log":
        await this.openLog(query.get("name") ?? "", res);
        return "streamed";
      case "GET /api/diagnostics":
        return { body: await this.diagnostics() };
      case "GET /api/tenants":
        return { body: await this.tenants.list() };
      case "POST /api/tenants/select":
        return { body: await this.tenants.select(parse(tenantRefSchema, body).tenant) };
      case "GET /api/tenants/overview":
        return { body: await this.tenants.overview() };
      case "POST /api/tenants/test":
        parse(z.strictObject({}), body);
        return { body: await this.tenants.testAll() };
      case "GET /api/tenants/events":
        return this.runs.follow(query.get("run") ?? "", res) ? "streamed" : undefined;
      case "GET /api/diagnostics/bundle":
        await this.bundle(res);
        return "streamed";
      default:
        return this.catalog.handle(route, query, body);
    }
  }

  private loc(): { env: NodeJS.ProcessEnv; configFile: string | undefined } {
    return { env: this.c.env, configFile: this.c.configFile };
  }

  private async profileNamed(name: string): Promise<void> {
    const file = await readProfilesFile(pathsFor(this.loc()));
    if (file?.profiles[name] === undefined)
      throw new PublisherError("UnknownProfile", `There is no profile "${name}".`, {
        hint: "Choose one of the saved profiles, or save this one first.",
      });
  }

  /** The profile the pages use: the one chosen, else the file's default, else the local tenant. */
  private async currentProfile(): Promise<string | null> {
    if (this.current !== undefined) return this.current;
    const file = await readProfilesFile(pathsFor(this.loc()));
    return file?.defaultProfile ?? Object.keys(file?.profiles ?? {})[0] ?? null;
  }

  private flagsFor(profile: string | null): SettingsFlags {
    return profile === null ? { cloud: "local" } : { profile };
  }

  private targetInput(profile: string | null): TargetInput {
    return {
      env: this.c.env,
      configFile: this.c.configFile,
      flags: this.flagsFor(profile),
      stateDir: this.c.stateDir,
      launcher: this.c.launcher,
      onNote: (line) => this.c.onNote?.(line),
    };
  }

  private async clouds(): Promise<CloudView[]> {
    const running = await this.c.launcher.findRunning(this.c.stateDir).catch(() => undefined);
    return CLOUD_NAMES.map((name) => {
      const p = CLOUD_PRESETS[name];
      const local = name === "local" ? running : undefined;
      return {
        name,
        label: p.label,
        authorityHost: local?.authorityHost ?? p.authorityHost,
        tokenAudience: local?.tokenAudience ?? p.tokenAudience,
        graphBaseUrl: local?.graphBaseUrl ?? p.graphBaseUrl,
      };
    });
  }

  async profiles(): Promise<ProfilesResponse> {
    const paths = pathsFor(this.loc());
    const file = await readProfilesFile(paths);
    const views: ProfileView[] = [];
    for (const [name, p] of Object.entries(file?.profiles ?? {})) {
      const cred = p.credential;
      const secretFile =
        cred.type === "secret" ? (cred.secretFile ?? defaultSecretFile(paths, name, process.platform)) : undefined;
      const secretStored =
        secretFile !== undefined &&
        (await stat(secretFile).then(
          (s) => s.isFile(),
          () => false,
        ));
      views.push({
        name,
        isDefault: file?.defaultProfile === name,
        cloud: p.cloud,
        tenant: p.tenant,
        clientId: p.clientId,
        authorityHost: p.authorityHost,
        tokenAudience: p.tokenAudience,
        graphBaseUrl: p.graphBaseUrl,
        credentialType: cred.type,
        secretStored,
        secretExpiresOn: cred.type === "secret" ? cred.expiresOn : undefined,
        certificatePath: cred.type === "certificate" ? cred.path : undefined,
        keyPath: cred.type === "certificate" ? cred.keyPath : undefined,
        passwordFile: cred.type === "certificate" ? cred.passwordFile : undefined,
        sendCertificateChain: cred.type === "certificate" && cred.sendCertificateChain === true,
        tokenFile: cred.type === "federated" ? cred.tokenFile : undefined,
        caCertificate: p.caCertificate,
        proxy: p.proxy,
      });
    }
    return {
      configFile: paths.file,
      defaultProfile: file?.defaultProfile,
      current: await this.currentProfile(),
      tenant: this.tenants.chosen(),
      profiles: views,
      clouds: await this.clouds(),
    };
  }

  /** The form as `connect init` takes it: the draft, the secret typed, the certificate uploaded. */
  private draftOf(f: ConnectionForm): { draft: ProfileDraft; upload: CertificateUpload | undefined } {
    this.c.secrets.add(f.secret);
    this.c.secrets.add(f.certificatePassword);
    this.c.secrets.add(f.certificateUpload);
    const abs = (p: string | undefined): string | undefined =>
      p === undefined ? undefined : isAbsolute(p) ? p : resolve(this.c.cwd, p);
    const need = (v: string | undefined, what: string): string => {
      if (v === undefined)
        throw new PublisherError("ConsoleRequestInvalid", `${what} is required for this credential.`, {
          hint: `Fill in ${what}.`,
        });
      return v;
    };
    let credential: CredentialConfig;
    let upload: CertificateUpload | undefined;
    if (f.credentialType === "certificate" && f.certificateUpload !== undefined) {
      upload = {
        bytes: Buffer.from(f.certificateUpload, "base64"),
        password: f.certificatePassword,
        sendCertificateChain: f.sendCertificateChain,
      };
      for (const m of upload.bytes
        .toString("latin1")
        .match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g) ?? [])
        this.c.secrets.add(m);
      // stored under this name by save(); a test uses a temporary copy
      credential = {
        type: "certificate",
        path: "uploaded",
        ...(f.sendCertificateChain === true ? { sendCertificateChain: true } : {}),
      };
    } else if (f.credentialType === "certificate") {
      credential = {
        type: "certificate",
        path: abs(need(f.certificatePath, "Certificate file"))!,
        ...(f.keyPath === undefined ? {} : { keyPath: abs(f.keyPath)! }),
        ...(f.passwordFile === undefined ? {} : { passwordFile: abs(f.passwordFile)! }),
        ...(f.sendCertificateChain === true ? { sendCertificateChain: true } : {}),
      };
    } else if (f.credentialType === "federated") {
      credential = { type: "federated", tokenFile: abs(need(f.tokenFile, "Federated token file"))! };
    } else {
      credential = { type: "secret", ...(f.secretExpiresOn === undefined ? {} : { expiresOn: f.secretExpiresOn }) };
    }
    return {
      draft: {
        tenant: f.tenant,
        clientId: f.clientId,
        cloud: f.cloud,
        // A preset's own endpoints are not written: the profile follows the preset, as with `connect init`.
        authorityHost: this.override(f.cloud, "authorityHost", f.authorityHost),
        tokenAudience: this.override(f.cloud, "tokenAudience", f.tokenAudience),
        graphBaseUrl: this.override(f.cloud, "graphBaseUrl", f.graphBaseUrl),
        credential,
        caCertificate: abs(f.caCertificate),
        proxy: f.proxy,
      },
      upload,
    };
  }

  /** `connect init` from the form: the same draft, validation and files; an uploaded certificate to the secrets folder. */
  async save(body: unknown): Promise<SaveResponse> {
    const f = parse(connectionFormSchema, body);
    const { draft, upload } = this.draftOf(f);
    if (f.credentialType === "secret" && f.secret === undefined) {
      const existing = (await this.profiles()).profiles.find((p) => p.name === f.name);
      if (existing?.secretStored !== true)
        throw new PublisherError("ConsoleRequestInvalid", "Client secret is required for a new secret profile.", {
          hint: "Paste the secret's Value (not its Secret ID).",
        });
    }
    // Everything is checked before the certificate is stored: a bad form leaves no file behind.
    buildProfile(draft);
    if (upload !== undefined && draft.credential.type === "certificate") {
      const stored = await storeUploadedCertificate(pathsFor(this.loc()), f.name, upload, {
        env: this.c.env,
        secrets: this.c.secrets,
      });
      draft.credential = {
        ...draft.credential,
        path: stored.path,
        ...(stored.passwordFile === undefined ? {} : { passwordFile: stored.passwordFile }),
      };
    }
    const written = await saveProfileDraft(this.loc(), f.name, draft, f.secret);
    this.c.secrets.addFromUrl(f.proxy);
    this.current = f.name;
    this.tenants.clear();
    return {
      profile: f.name,
      configFile: written.configFile,
      authority: written.endpoints.authority,
      graphBaseUrl: written.endpoints.graphBaseUrl,
    };
  }

  /** `connect test` of the form as it stands, saved or not: nothing is written. */
  async testDraft(f: ConnectionForm): Promise<TestResponse> {
    const { draft, upload } = this.draftOf(f);
    const a = this.track();
    try {
      return await testProfileDraft(this.loc(), f.name, draft, {
        secret: f.credentialType === "secret" ? f.secret : undefined,
        certificate: upload,
        signal: a.signal,
        secrets: this.c.secrets,
        logger: this.c.logger,
      });
    } finally {
      this.controllers.delete(a);
    }
  }

  /** An endpoint field equal to the cloud preset's is the preset (not an override). */
  private override(
    cloud: (typeof CLOUD_NAMES)[number],
    key: "authorityHost" | "tokenAudience" | "graphBaseUrl",
    value: string | undefined,
  ): string | undefined {
    const preset = CLOUD_PRESETS[cloud][key];
    return value !== undefined && preset !== undefined && value.replace(/\/+$/, "") === preset ? undefined : value;
  }

  /** `connect test` (`--profile NAME`, or `--cloud local` for null). */
  async test(profile: string | null, deadline?: AbortSignal): Promise<TestResponse> {
    const a = this.track();
    try {
      return await testTarget(this.targetInput(profile), {
        signal: deadline === undefined ? a.signal : AbortSignal.any([a.signal, deadline]),
        secrets: this.c.secrets,
        logger: this.c.logger,
      });
    } finally {
      this.controllers.delete(a);
    }
  }

  private track(): AbortController {
    const a = new AbortController();
    this.controllers.add(a);
    return a;
  }

  /** The target the pages work on: the tenant chosen on the Tenants page (as `--tenants NAME`), else the profile. */
  private async currentInput(): Promise<TargetInput> {
    const tenant = await this.tenants.selected();
    if (tenant !== undefined) return { ...this.targetInput(null), flags: tenant.flags };
    return this.targetInput(await this.currentProfile());
  }

  /** Resolves the current tenant, signs in, runs `fn`, cleans up (the CLI's withGraph). */
  private async withGraph<T>(fn: (s: GraphSession, t: ResolvedTarget, signal: AbortSignal) => Promise<T>): Promise<T> {
    const a = this.track();
    const target = await resolveTarget(await this.currentInput());
    try {
      const session = await openGraphSession(target, {
        env: this.c.env,
        logger: this.c.logger,
        secrets: this.c.secrets,
        onWarning: (line) => this.c.onNote?.(`warning: ${line}`),
      });
      try {
        return await fn(session, target, a.signal);
      } finally {
        await session.close();
      }
    } finally {
      await target.close();
      this.controllers.delete(a);
    }
  }

  /** `apps list` */
  async apps(): Promise<AppsResponse> {
    return this.withGraph(async (s, t, signal) => ({ target: t.info, apps: await listApps(s.graph, signal) }));
  }

  /** `apps show`, in the words the CLI uses. */
  async detail(query: string): Promise<AppDetailResponse> {
    if (query === "")
      throw new PublisherError("ConsoleRequestInvalid", "app: is required.", { hint: "Give an app id." });
    return this.withGraph(async (s, _t, signal) => {
      const { app, assignments, relationships, names, espProfiles } = await showApp(s.graph, query, signal);
      const stamp = readStamp(app.notes);
      const nameOf = (id: string) => relationships.find((r) => r.targetId === id)?.targetDisplayName ?? id;
      const kind = (t: string) =>
        t
          .replace(/^#microsoft\.graph\.win32LobApp/, "")
          .replace(/(Rule|Detection|Requirement)$/, "")
          .replace(/([a-z])([A-Z])/g, "$1 $2")
          .toLowerCase();
      const rules = [
        ...(app.rules ?? []).map((r) => `${r.ruleType}: ${kind(r["@odata.type"])}`),
        ...(app.rules === undefined || app.rules.length === 0
          ? [
              ...(app.detectionRules ?? []).map((r) => `detection: ${kind(r["@odata.type"])}`),
              ...(app.requirementRules ?? []).map((r) => `requirement: ${kind(r["@odata.type"])}`),
            ]
          : []),
      ];
      return {
        appId: app.id,
        displayName: app.displayName,
        displayVersion: app.displayVersion ?? "",
        publisher: app.publisher ?? "",
        definitionId: stamp.status === "valid" ? stamp.stamp.id : undefined,
        installCommandLine: app.installCommandLine,
        uninstallCommandLine: app.uninstallCommandLine,
        rules,
        assignments: assignments.map((a) => assignmentLabel(a, names)),
        espProfiles: espProfiles?.map((p) => p.displayName),
        relationships: [
          ...outgoingLinks(app.id, relationships).map((l) => describeLink(l, nameOf)),
          ...relationships
            .filter((r) => r.targetType === "parent")
            .map(
              (r) =>
                `${r["@odata.type"].endsWith("Supersedence") ? "superseded by" : "required by"} ${r.targetDisplayName ?? r.targetId}`,
            ),
        ],
      };
    });
  }

  /** `rollback [--to] [--dry-run]`: the plan first (dryRun), then the move after the confirmation. */
  async rollback(r: RollbackRequest): Promise<RollbackResponse> {
    return this.withGraph(async (s, _t, signal) => {
      const result = await rollback({
        graph: s.graph,
        app: r.app,
        ...(r.to === undefined ? {} : { to: r.to }),
        dryRun: r.dryRun,
        signal,
      });
      return {
        dryRun: result.dryRun,
        toAppId: result.rollback.to.appId,
        report: rollbackReport(result),
        warnings: result.rollback.warnings,
      };
    });
  }

  /** `apps remove [--force] [--dry-run]`: the plan first (dryRun), then the removal of exactly the apps confirmed. */
  async remove(r: RemoveRequest): Promise<RemoveResponse> {
    return this.withGraph(async (s, _t, signal) => {
      const same = (a: readonly string[], b: readonly string[]) =>
        a.length === b.length && a.every((x) => b.some((y) => y.toLowerCase() === x.toLowerCase()));
      const result = await removeApps({
        graph: s.graph,
        app: r.app,
        force: r.force === true,
        dryRun: r.dryRun,
        signal,
        confirm: (plan) => {
          const ids = plan.apps.map((a) => a.appId);
          if (r.confirmed !== undefined && same(ids, r.confirmed)) return Promise.resolve(true);
          throw new PublisherError(
            "NotConfirmed",
            `Nothing was removed: the removal now deletes ${ids.join(", ") || "no app"}, not the app(s) confirmed.`,
            { hint: "Review the new plan and confirm it again." },
          );
        },
      });
      return {
        dryRun: result.dryRun,
        appIds: result.removal.apps.map((a) => a.appId),
        report: removalReport(result.removal, result.dryRun),
        warnings: result.removal.warnings,
      };
    });
  }

  /** `publish --dry-run FILE…` */
  async plan(r: PublishRequest): Promise<PlanResponse> {
    const definitions = await loadAppDefinitions(r.files, { cwd: this.c.cwd });
    return this.withGraph(async (s, t, signal) => {
      const result = await publish({ graph: s.graph, definitions, dryRun: true, signal });
      const short = (v: unknown) => {
        const text = typeof v === "string" ? v : JSON.stringify(v);
        return text.length > 80 ? `${text.slice(0, 77)}…` : text;
      };
      return {
        target: t.info,
        items: result.plan.items.map((i) => {
          const patch = (i.patch ?? {}) as Record<string, unknown>;
          return {
            id: i.id,
            displayName: i.displayName,
            version: i.version,
            action: i.action === "new-version" ? `new version (${i.strategy})` : i.action.replace("-", " "),
            appId: i.appId,
            // old → new as `publish --dry-run` prints them; a property without them: its new value
            changes: i.changed.map((k) => {
              const c = i.changes?.find((x) => x.property === k);
              return c !== undefined ? changeText(c) : k in patch ? `${k}: ${short(patch[k])}` : k;
            }),
            reasons: i.reasons,
          };
        }),
        warnings: result.plan.warnings,
      };
    });
  }

  /** `publish FILE…`, followed live at /api/publish/events. */
  async apply(r: PublishRequest): Promise<ApplyResponse> {
    // Definition problems are reported now, before the run starts (as `publish` does, exit 9).
    const definitions = await loadAppDefinitions(r.files, { cwd: this.c.cwd });
    const run = this.runs.start(
      (onEvent) =>
        this.withGraph((s, t, signal) => {
          const o: PublishOptions = {
            graph: s.graph,
            definitions,
            signal,
            onEvent,
            upload: { storage: { transport: s.transport.send } },
            ...(!t.inProcess ? { journalDir: join(dirname(defaultLogDir(this.c.env)), "uploads") } : {}),
          };
          const startedAt = new Date().toISOString();
          return publish(o).then((r) => {
            // recorded in the run history as the CLI's `publish` records its runs (kind publish, trigger console; no
            // exit code: the console's runs are not commands)
            recordPublishRun(this.userState(), r, {
              startedAt,
              finishedAt: new Date().toISOString(),
              trigger: "console",
              cancelled: signal.aborted,
              logFile: this.c.logFile,
              tenantId: t.info.tenantId,
            });
            return {
              ok: r.outcomes.filter((x) => x.status === "ok").length,
              failed: r.outcomes.filter((x) => x.status === "failed").length,
            };
          });
        }),
      (text) => this.c.secrets.scrub(text),
    );
    return { run };
  }

  /** The user state folder (sync history, lock, work folders), as the CLI's. */
  private userState(): string {
    return userStateDir(this.c.env, process.platform, homeFolder(this.c.env, process.platform, homedir));
  }

  /**
   * The last runs of `sync` and `publish` (the history file; none when it does not exist yet), each with its
   * products' (apps') results.
   */
  history(): HistoryResponse {
    const file = defaultHistoryFile(this.userState());
    if (!existsSync(file)) return { file, runs: [] };
    const h = SyncHistory.open(file);
    try {
      return {
        file,
        runs: h.runs(20).map(({ logFile, ...r }) => ({
          ...r,
          logKept: logFile !== null,
          results: h.products(r.id).map((p) => ({
            product: p.productId,
            version: p.version ?? undefined,
            action: p.action,
            status: p.status,
            reason: p.reason,
          })),
        })),
      };
    } finally {
      h.close();
    }
  }

  /**
   * The run log lines of run `id` (sync or publish), streamed: from the log the history names (or, for a run
   * recorded without it, each run log of the log folder open while the run ran), the lines stamped between its start
   * and its end. The files are redacted when written; each line is scrubbed again (the secrets this console met,
   * credential shapes) before it leaves. A run made with `--no-log-file` gets one line saying so.
   */
  async syncLog(id: string, res: ServerResponse): Promise<void> {
    const n = /^\d{1,12}$/.test(id) ? Number(id) : NaN;
    const file = defaultHistoryFile(this.userState());
    const h = Number.isNaN(n) || !existsSync(file) ? undefined : SyncHistory.open(file);
    const run = h?.run(n, SYNC_LOG_RUNS);
    h?.close();
    if (run === undefined)
      throw new PublisherError("ConsoleRequestInvalid", `run: there is no run ${id} among the last runs.`, {
        hint: "Choose a run of the history table.",
      });
    const window = {
      from: Date.parse(run.startedAt) - SYNC_LOG_SLACK_MS,
      to: Date.parse(run.finishedAt) + SYNC_LOG_SLACK_MS,
    };
    startLogResponse(res);
    if (run.logFile === null) {
      res.end(`# ${NO_LOG_KEPT}\n`);
      return;
    }
    const sources: LogSource[] = [];
    if (run.logFile !== undefined) sources.push({ path: run.logFile, window });
    else {
      const dir = defaultLogDir(this.c.env);
      for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
        const opened = /^run-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}\.\d{3})Z-[\d-]+\.jsonl$/.exec(name);
        if (opened === null) continue;
        const [, y, mo, d, hh, mm, ss] = opened;
        if (Date.parse(`${y}-${mo}-${d}T${hh}:${mm}:${ss}Z`) > window.to) continue;
        const s = await stat(join(dir, name)).catch(() => undefined);
        if (s === undefined || s.mtimeMs < window.from) continue;
        sources.push({ path: join(dir, name), window });
      }
    }
    await streamLogs(res, sources, (line) => this.c.secrets.scrub(scrubShapes(line)));
  }

  /**
   * One run log of the log folder, by its name as Diagnostics lists it (never a path): streamed and scrubbed as
   * Show log. A name with a path in it is refused (400); a name that is not a file of the folder is not found (404).
   */
  async openLog(name: string, res: ServerResponse): Promise<void> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(name))
      throw new PublisherError(
        "ConsoleRequestInvalid",
        `name: "${name.slice(0, 80)}" is not the name of a run log (a file name of the log folder, no path).`,
        { hint: "Choose a log of the Diagnostics page's list." },
      );
    const dir = defaultLogDir(this.c.env);
    const names = await readdir(dir).catch(() => [] as string[]);
    const s = names.includes(name) ? await lstat(join(dir, name)).catch(() => undefined) : undefined;
    if (s?.isFile() !== true) {
      res.statusCode = 404;
      res.setHeader("Content-Type", "application/json; charset=utf-8");
      res.end(
        JSON.stringify({
          error: {
            code: "NotFound",
            message: `There is no run log "${name}" in the log folder ${dir}.`,
            hint: "The folder keeps the last 20 run logs: reload Diagnostics for the current list.",
          },
        } satisfies ErrorResponse),
      );
      return;
    }
    startLogResponse(res);
    await streamLogs(res, [{ path: join(dir, name) }], (line) => this.c.secrets.scrub(scrubShapes(line)));
  }

  /** The support bundle (`diagnostics`) of the current profile, as a download. */
  async bundle(res: ServerResponse): Promise<void> {
    const profile = await this.currentProfile();
    const now = new Date();
    const entries = await collectSupportBundle({
      env: this.c.env,
      config: pathsFor(this.loc()),
      stateDir: this.c.stateDir,
      userStateDir: userStateDir(this.c.env, process.platform, homeFolder(this.c.env, process.platform, homedir)),
      local: profile === null,
      now,
      connectionTest: () => this.test(profile, AbortSignal.timeout(30_000)),
    });
    const zip = zipEntries(entries, now);
    const name = `intune-publisher-support-${now.toISOString().slice(0, 19).replace(/[:T]/g, "-")}.zip`;
    res.statusCode = 200;
    res.setHeader("Content-Type", "application/zip");
    res.setHeader("Content-Disposition", `attachment; filename="${name}"`);
    res.setHeader("Content-Length", zip.length);
    res.end(zip);
  }

  /** `sync [--dry-run] --subscriptions FILE` on the current profile: the same run as the CLI's (runSubscriptionsSync). */
  private async syncRun(
    r: SyncRequest,
    dryRun: boolean,
    onEvent: ((e: RunEvent) => void) | undefined,
  ): Promise<{ result: SyncResult; target: ResolvedTarget }> {
    // Problems of the file are reported before anything starts (as `sync`, exit 9).
    const subscriptions = await loadSubscriptions(r.subscriptions, this.c.cwd);
    const paths = pathsFor(this.loc());
    const config = await readProfilesFile(paths);
    const stateDir = this.userState();
    const tenant = (await this.tenants.selected())?.entry;
    return withSyncLock(stateDir, "console", () =>
      this.withGraph(async (session, target, signal) => ({
        target,
        result: await runSubscriptionsSync({
          env: this.c.env,
          secrets: this.c.secrets,
          session,
          target,
          logger: this.c.logger,
          subscriptions,
          catalogConfig: config?.catalog,
          configFile: paths.file,
          stateDir,
          trigger: "console",
          logFile: this.c.logFile,
          dryRun,
          ...(r.only === undefined || r.only.length === 0 ? {} : { only: r.only }),
          inventoryMaxAge: r.inventoryMaxAge ?? INVENTORY_MAX_AGE_DEFAULT,
          tenant,
          signal,
          ...(onEvent === undefined ? {} : { onEvent, onDownload: this.downloadEvents(onEvent) }),
          onNote: (line) => this.c.onNote?.(line),
        }),
      })),
    );
  }

  /**
   * Installer downloads reported on the row of the app they are for: sync labels each download with the definition
   * id of the subscription it is for (one per product, architecture and scope), the id the engine's later events
   * name. A download without a label (none is expected) goes to its product's default definition id.
   */
  private downloadEvents(onEvent: (e: RunEvent) => void): (event: DownloadEvent) => void {
    return (event) => {
      const id = event.label ?? (event.product === undefined ? event.url : definitionIdFor(event.product));
      onEvent({ type: "download", id, event });
    };
  }

  /** `sync --dry-run`: per product the action, the reason and the properties that change (old → new). */
  async syncPlan(r: SyncRequest): Promise<SyncPlanResponse> {
    const { result, target } = await this.syncRun(r, true, undefined);
    const d = result.willDownload;
    return {
      target: target.info,
      file: resolve(this.c.cwd, r.subscriptions),
      products: result.products.map((p) => ({
        id: p.id,
        version: p.version,
        action: p.action,
        reason: p.reason,
        changes: (p.changes ?? []).map(changeText),
      })),
      download:
        d === undefined
          ? undefined
          : `A real run will download ${formatMb(d.bytes)} (${d.count} installer(s)${d.unknownSize > 0 ? `, ${d.unknownSize} of unknown size` : ""}); installers already in the cache are not counted.`,
    };
  }

  /** `sync`, followed live at /api/publish/events (downloads, packaging, upload, commit, targeting per product). */
  async syncApply(r: SyncRequest): Promise<ApplyResponse> {
    await loadSubscriptions(r.subscriptions, this.c.cwd);
    const run = this.runs.start(
      async (onEvent) => {
        const { result } = await this.syncRun(r, false, onEvent);
        const failed = result.products.filter((p) => p.status === "failed").length;
        return { ok: result.products.length - failed, failed };
      },
      (text) => this.c.secrets.scrub(text),
    );
    return { run };
  }

  /** What a support case needs first; secrets never (the profile view holds none). */
  async diagnostics(): Promise<DiagnosticsResponse> {
    const profiles = await this.profiles();
    const logDir = defaultLogDir(this.c.env);
    const logs: DiagnosticsResponse["logs"] = [];
    for (const name of await readdir(logDir).catch(() => [] as string[])) {
      const s = await stat(join(logDir, name)).catch(() => undefined);
      if (s?.isFile()) logs.push({ name, bytes: s.size, modified: s.mtime.toISOString() });
    }
    logs.sort((a, b) => b.modified.localeCompare(a.modified));
    return {
      versions: [
        { name: "intune-publisher", version: packageVersion() },
        { name: "Node.js", version: process.versions.node },
        { name: "Operating system", version: `${process.platform} ${process.arch}` },
      ],
      profile: profiles.profiles.find((p) => p.name === profiles.current),
      files: [
        { what: "Profiles file", path: profiles.configFile },
        { what: "Run logs", path: logDir },
        { what: "Sync history", path: this.history().file },
        { what: "Local tenant state", path: this.c.stateDir },
      ],
      logs: logs.slice(0, 20),
    };
  }
}
