// Test support: a throwaway CA and a 127.0.0.1 server certificate made with the openssl CLI (never shipped).
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Asynchronous on purpose: blocking the event loop while in-process Azurite runs deadlocks (local-stack-notes §1.1). */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "intune-emulator-test-ca-"));
  try {
    const p = (name: string): string => join(dir, name);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await run("openssl", [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.crt"),
      "-days",
      "2",
      "-subj",
      "/CN=intune-publisher test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await run("openssl", ["req", ...ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"]);
    await writeFile(
      p("ext.cnf"),
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    );
    await run("openssl", [
      "x509",
      "-req",
      "-in",
      p("server.csr"),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-out",
      p("server.crt"),
      "-days",
      "2",
      "-extfile",
      p("ext.cnf"),
    ]);
    const [caPem, certPem, keyPem] = await Promise.all(
      ["ca.crt", "server.crt", "server.key"].map((f) => readFile(p(f), "utf8")),
    );
    return { caPem: caPem!, certPem: certPem!, keyPem: keyPem! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
