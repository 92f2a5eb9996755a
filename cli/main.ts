// `pam`: the command line for cloud-pam (docs/cli.md). `main` runs one command line with injected
// output, environment and outside world and returns the exit code, so tests run it in-process;
// `runFromProcess` is what bin/pam.js calls. Exit codes: 0 success, 1 refused by cloud-pam (or a
// failed check), 2 usage, configuration, connection and server errors, each as one stderr line.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CliDeps, type CliIo, DEFAULT_STACK, defaultDeps, type GlobalFlags } from './context.ts';
import { CliError, EXIT_FAILURE, oneLine, RefusedError, UsageError } from './errors.ts';
import { SLACK_SUBCOMMANDS } from './slack.ts';
import {
  SUBCOMMANDS as CORE_SUBCOMMANDS,
  type Options,
  type Subcommand,
  type SubcommandContext,
  type Values,
} from './subcommands.ts';

/** Every subcommand: the request core's and `pam slack …`. */
const SUBCOMMANDS: readonly Subcommand[] = [...CORE_SUBCOMMANDS, ...SLACK_SUBCOMMANDS];

const GLOBAL_OPTIONS: Options = {
  json: { type: 'boolean' },
  as: { type: 'string' },
  'api-url': { type: 'string' },
  stack: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_USAGE = `Global flags:
  --json              print the API's JSON result as one document (for scripts)
  --as <user>         local mode: act as this demo user (or PAM_USER)
  --api-url <url>     the deployed API (or PAM_API_URL); else the ApiUrl output of --stack
  --stack <name>      the hub service stack (default ${DEFAULT_STACK})
  --profile <name>    AWS profile for signing and AWS calls (like AWS_PROFILE)
  -h, --help          help for pam or for one command`;

function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((c) => c.words.join(' ').length));
  const lines = SUBCOMMANDS.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'usage: pam <command> [arguments] [flags]',
    '',
    'Commands:',
    ...lines,
    '',
    GLOBAL_USAGE,
    '',
    'Modes: deployed (PAM_API_URL or the stack; SigV4 from your AWS session) or local',
    '(.pam/local.json from `make start`; no signing, --as <user>). Exit codes: 0 ok, 1 refused',
    'by cloud-pam, 2 usage or connection error. `pam <command> --help` for details; docs/cli.md.',
  ].join('\n');
}

function subcommandUsage(command: Subcommand): string {
  return `usage: pam ${command.usage}\n\n${GLOBAL_USAGE}`;
}

/** The subcommand whose words start the positionals, longest first (`local clock advance` before `local clock`). */
function findSubcommand(positionals: readonly string[]): Subcommand | undefined {
  const candidates = [...SUBCOMMANDS].sort((a, b) => b.words.length - a.words.length);
  return candidates.find((command) => command.words.every((word, index) => positionals[index] === word));
}

function allOptions(): Options {
  const options: Options = { ...GLOBAL_OPTIONS };
  for (const command of SUBCOMMANDS) Object.assign(options, command.options);
  return options;
}

/** node's parseArgs messages run on with advice about `--`; the first sentence is the point. */
function parseArgsMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return oneLine(message.split(/\.\s/)[0] ?? message, 160);
}

function parse(argv: readonly string[], options: Options, strict: boolean) {
  const config: ParseArgsConfig = { args: [...argv], options, allowPositionals: true, strict };
  return parseArgs(config) as { values: Values; positionals: string[] };
}

/** Runs one command line; never throws. */
export async function main(argv: readonly string[], io: CliIo, deps: CliDeps = defaultDeps): Promise<number> {
  const print = (...lines: string[]) => io.stdout(lines.map((line) => `${line}\n`).join(''));
  const fail = (line: string) => io.stderr(`pam: ${oneLine(line, 600)}\n`);
  let json = argv.includes('--json');
  try {
    // First pass, lenient: find the command's words among the positionals.
    const loose = parse(argv, allOptions(), false);
    const wantsHelp = loose.values.help === true;
    const first = loose.positionals[0];
    if (first === undefined || first === 'help') {
      if (wantsHelp || first === 'help') {
        print(usage());
        return 0;
      }
      throw new UsageError('missing command (see `pam --help`)');
    }
    const command = findSubcommand(loose.positionals);
    const group = SUBCOMMANDS.filter((c) => c.words.length > 1 && c.words[0] === first);
    if (!command && group.length > 0) {
      const choices = group.map((c) => `pam ${c.words.join(' ')}`).join(', ');
      if (wantsHelp) {
        print(`usage: one of ${choices}; \`<command> --help\` for details`);
        return 0;
      }
      throw new UsageError(`${first}: expected a subcommand: ${choices}`);
    }
    if (!command) {
      throw new UsageError(
        `unknown command "${oneLine(loose.positionals.slice(0, 2).join(' '), 40)}" (see \`pam --help\`)`,
      );
    }
    const name = command.words.join(' ');
    // Second pass, strict: only the global flags and this command's.
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv, { ...GLOBAL_OPTIONS, ...command.options }, true);
    } catch (error) {
      throw new UsageError(`${name}: ${parseArgsMessage(error)} (see \`pam ${name} --help\`)`);
    }
    const { values } = parsed;
    json = values.json === true;
    if (values.help === true) {
      print(subcommandUsage(command));
      return 0;
    }
    const args = parsed.positionals.slice(command.words.length);
    const required = command.positionals.filter((p) => !p.endsWith('?'));
    if (args.length < required.length) {
      throw new UsageError(
        `${name}: missing <${required[args.length]}> (usage: pam ${command.usage.split('\n')[0]})`,
      );
    }
    if (args.length > command.positionals.length) {
      throw new UsageError(
        `${name}: unexpected argument "${oneLine(args[command.positionals.length] ?? '', 40)}"`,
      );
    }
    const flags: GlobalFlags = {
      json,
      ...(typeof values.as === 'string' ? { as: values.as } : {}),
      ...(typeof values['api-url'] === 'string' ? { apiUrl: values['api-url'] } : {}),
      ...(typeof values.stack === 'string' ? { stack: values.stack } : {}),
      ...(typeof values.profile === 'string' ? { profile: values.profile } : {}),
    };
    const context: SubcommandContext = {
      io,
      deps,
      flags,
      values,
      args,
      print,
      printJson: (value) => io.stdout(`${JSON.stringify(value)}\n`),
    };
    return await command.run(context);
  } catch (error) {
    if (error instanceof RefusedError && json) io.stdout(`${JSON.stringify(error.body)}\n`);
    if (error instanceof CliError) {
      fail(error.message);
      return error.exitCode;
    }
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    fail(`unexpected error (${reason})`);
    return EXIT_FAILURE;
  }
}

export async function runFromProcess(): Promise<number> {
  return main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  });
}
