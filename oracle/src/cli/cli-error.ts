/**
 * A command's failure of its own (./output.ts prints it). In a module without imports so that a
 * command on the cold-start path (`dispatch solve`, docs/BENCHMARKS.md) can throw it without
 * loading what output.ts needs to explain a contract revert (the client and every ABI).
 */

/** A command's failure of its own: `code` 2 for bad input (naming `field`), 1 for everything else. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly code: 1 | 2 = 1,
    readonly errorName?: string,
    readonly field?: string,
  ) {
    super(message);
  }

  /** Bad input: the message is `<field>: <reason>`, the exit code 2. */
  static input(field: string, reason: string): CliError {
    return new CliError(`${field}: ${reason}`, 2, undefined, field);
  }

  /**
   * Bad input found by a schema: every issue as `<field>: <reason>` (`; `-separated), the first
   * issue's field as the field. `fieldOf` names a schema path as the user wrote it (`nodeUrl` →
   * `--node-url`); an issue of the whole input is `(root)`. `errorName` defaults to
   * `InvalidArguments` (./output.ts).
   */
  static issues(
    issues: ReadonlyArray<{ readonly path: ReadonlyArray<string | number>; readonly message: string }>,
    fieldOf: (path: string) => string = (path) => path,
    errorName?: string,
  ): CliError {
    const named = issues.map((i) => ({
      field: i.path.length === 0 ? "(root)" : fieldOf(i.path.join(".")),
      message: i.message,
    }));
    return new CliError(
      named.map((i) => `${i.field}: ${i.message}`).join("; "),
      2,
      errorName,
      named[0]?.field ?? "(root)",
    );
  }
}
