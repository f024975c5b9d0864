import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nameWords, suggestNames } from "./suggest.js";

const NAMES = [
  "All Windows devices",
  "Intune - Pilot devices",
  "Pilots lounge",
  "Autopilot devices",
  "Co-pilot testers",
  "Finance",
  "PILOT",
];

describe("suggestNames", () => {
  it("splits names into lower-case words", () => {
    assert.deepEqual(nameWords("Intune - Pilot devices (EU)"), ["intune", "pilot", "devices", "eu"]);
  });

  it("matches whole words anywhere in the name, case-insensitively: exact word > prefix > edit distance", () => {
    // "pilot" is a whole word of "PILOT" and "Intune - Pilot devices", starts "Pilots", and is inside
    // "Autopilot" and "Co-pilot" only as part of a word ("co", "pilot": a whole word again).
    assert.deepEqual(suggestNames("Pilot", NAMES), [
      "PILOT",
      "Co-pilot testers",
      "Intune - Pilot devices",
      "Pilots lounge",
    ]);
    // Names with both words first; then those with one, an exact word before a prefix, shorter names first.
    assert.deepEqual(suggestNames("pilot devices", NAMES), [
      "Intune - Pilot devices",
      "PILOT",
      "Co-pilot testers",
      "Autopilot devices",
      "All Windows devices",
    ]);
    // A typo a small edit away is found, after exact and prefix matches of other words.
    assert.deepEqual(suggestNames("Pilto devices", NAMES, 2), ["Intune - Pilot devices", "Autopilot devices"]);
    assert.deepEqual(suggestNames("Finanse", NAMES), ["Finance"]);
  });

  it("suggests nothing when no word is alike, and at most `max` names", () => {
    assert.deepEqual(suggestNames("Marketing", NAMES), []);
    assert.deepEqual(suggestNames(" - ", NAMES), []);
    assert.equal(suggestNames("devices", NAMES, 2).length, 2);
  });
});
