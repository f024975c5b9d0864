/** zod error map for a field: "X is required." when it is missing, else `wrong`. */
export const need =
  (what: string, wrong: string) =>
  (iss: { input?: unknown }): string =>
    iss.input === undefined ? `${what} is required.` : wrong;
