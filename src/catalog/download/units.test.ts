/** Small parts of the downloader: rate and ETA, file names from headers and URLs, the cache folder. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultDownloadCacheDir } from "./cache.js";
import { downloadFileName, safeFileName } from "./file-name.js";
import { RateMeter } from "./progress.js";

describe("rate meter", () => {
  it("measures bytes per second over the last five seconds and the time left", () => {
    let now = 0;
    const m = new RateMeter(() => now);
    assert.equal(m.rate(), 0);
    assert.equal(m.etaSeconds(1000), undefined);
    m.add(0);
    for (let s = 1; s <= 10; s++) {
      now = s * 1000;
      m.add(s <= 5 ? s * 100 : 500 + (s - 5) * 1000);
    }
    // The last five seconds moved 1000 bytes a second (the first five only 100).
    assert.equal(m.rate(), 1000);
    assert.equal(m.etaSeconds(10_500), 5);
    assert.equal(m.etaSeconds(undefined), undefined);
  });
});

describe("download file names", () => {
  it("takes Content-Disposition (RFC 5987 form first), else the URL's last segment", () => {
    assert.equal(downloadFileName(`attachment; filename="setup 1.2.exe"`, "https://x/y/z"), "setup 1.2.exe");
    assert.equal(
      downloadFileName(`attachment; filename="a.exe"; filename*=UTF-8''caf%C3%A9.msi`, "https://x/"),
      "café.msi",
    );
    assert.equal(downloadFileName(undefined, "https://x/dl/Tool%20Setup.msi?sig=1"), "Tool Setup.msi");
    assert.equal(downloadFileName(undefined, "https://x/"), "installer");
  });

  it("never yields a path or a name Windows cannot hold", () => {
    assert.equal(safeFileName("../../etc/passwd"), "passwd");
    assert.equal(safeFileName("..\\..\\boot.ini"), "boot.ini");
    assert.equal(safeFileName("a\nb\u0000c.exe"), "a_b_c.exe");
    assert.equal(safeFileName('x<y>:"|?*.exe'), "x_y______.exe");
    assert.equal(safeFileName("CON.exe"), "installer");
    assert.equal(safeFileName("setup.exe. . "), "setup.exe");
    assert.equal(safeFileName(".."), "installer");
    assert.equal(safeFileName(""), "installer");
    assert.equal(safeFileName("a".repeat(300)).length, 200);
  });
});

describe("download cache folder", () => {
  it("is under XDG_CACHE_HOME, ~/.cache when it is unset, empty or relative, LOCALAPPDATA on Windows", () => {
    assert.equal(defaultDownloadCacheDir({ XDG_CACHE_HOME: "/c" }, "linux", "/h"), "/c/intune-publisher/downloads");
    for (const v of [undefined, "", "  ", "relative/dir"])
      assert.equal(
        defaultDownloadCacheDir({ XDG_CACHE_HOME: v }, "linux", "/h"),
        "/h/.cache/intune-publisher/downloads",
      );
    const win = defaultDownloadCacheDir({ LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" }, "win32", "C:\\Users\\u");
    assert.equal(win.replaceAll("\\", "/"), "C:/Users/u/AppData/Local/intune-publisher/Cache/downloads");
  });
});
