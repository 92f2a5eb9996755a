// The CLI's failures and their exit codes. Every failure is printed as one line, `pam: <line>`, on
// stderr: 1 when cloud-pam itself refused (an HTTP 4xx in its `{error:{code,message}}` format), 2 for
// everything else (usage, configuration, connection, API Gateway, server errors).

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_FAILURE = 2;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = EXIT_FAILURE,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command line the CLI cannot run: unknown command or flag, missing or malformed argument. */
export class UsageError extends CliError {
  constructor(
    message: string,
    /** The usage of the command concerned, printed after the error line when given. */
    readonly usage?: string,
  ) {
    super(message, EXIT_FAILURE);
  }
}

/** cloud-pam refused the call (policy, validation, state): its stable code and message. */
export class RefusedError extends CliError {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly apiMessage: string,
    /** The API's error document, printed on stdout under `--json`. */
    readonly body: unknown,
  ) {
    super(`refused (${code}): ${apiMessage}`, EXIT_REFUSED);
  }
}

/**
 * Makes text from outside (an API message, a file) safe to print as part of one line: control
 * characters (newlines, terminal escapes) become spaces, and long text is cut.
 */
export function oneLine(text: string, max = 300): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
