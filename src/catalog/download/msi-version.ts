/** The version of a downloaded MSI (its ProductVersion), for catalog entries whose version is read from the file. */
import { PublisherError } from "../../core/errors.js";
import { readMsi } from "../../intunewin/msi.js";

/** Reads ProductVersion from the MSI at `path` (the reader loads only the tables it needs). */
export async function msiProductVersion(path: string): Promise<string> {
  const msi = await readMsi(path);
  if (msi.productVersion.trim() === "")
    throw new PublisherError("MsiWithoutVersion", `The downloaded MSI has no ProductVersion.`, {
      hint: "Give the version in the catalog entry, or use a feed that names it.",
    });
  return msi.productVersion.trim();
}
