// `.pam/local.json`, written by the local runtime (`make start`): where its API and its moto
// endpoint listen, the tables, and the demo users. The CLI finds it from the working directory up
// (or through PAM_LOCAL_FILE), validates it, and never prints what it holds: the file carries
// credentials, so an error names the field and never a value.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { formatIssues } from '#domain/text.ts';
import { CliError } from './errors.ts';

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

export const LocalFileSchema = z.object({
  apiUrl: httpUrl,
  awsEndpoint: httpUrl,
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as us-east-1'),
  hubAccountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
  credentials: z.object({
    accessKeyId: z.string().min(1, 'expected an access key id'),
    secretAccessKey: z.string().min(1, 'expected a secret access key'),
    sessionToken: z.string().min(1).optional(),
  }),
  accessTableName: z.string().min(1, 'expected a table name'),
  auditTableName: z.string().min(1, 'expected a table name'),
  users: z.array(z.string().min(1)),
  /** The local Slack app, when the config has a bot: `pam slack` signs with its secret. */
  slack: z
    .object({
      signingSecret: z.string().min(16, 'expected a signing secret'),
      teamId: z.string().regex(/^T[A-Z0-9]+$/, 'expected a Slack team id'),
      users: z.record(z.string(), z.string().regex(/^[UW][A-Z0-9]+$/, 'expected a Slack user id')),
    })
    .optional(),
  pid: z.number().int().positive(),
  startedAt: z.iso.datetime({ offset: true }),
});
export type LocalFile = z.infer<typeof LocalFileSchema>;

export const LOCAL_FILE = path.join('.pam', 'local.json');

/** PAM_LOCAL_FILE, else `.pam/local.json` in `cwd` or the nearest parent that has one. */
export function findLocalFile(cwd: string, env: Readonly<Record<string, string | undefined>>) {
  if (env.PAM_LOCAL_FILE) return path.resolve(cwd, env.PAM_LOCAL_FILE);
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, LOCAL_FILE);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Reads and validates the file; a missing, unreadable or malformed file is one line, exit 2. */
export function readLocalFile(file: string): LocalFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`cannot read ${file} (${code}); is \`make start\` running?`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be a credential.
    throw new CliError(
      `${file} is malformed: not valid JSON (restart the local runtime with \`make start\`)`,
    );
  }
  const parsed = LocalFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CliError(`${file} is malformed: ${formatIssues(parsed.error.issues, '')}`);
  }
  return parsed.data;
}

/** Whether a process id is alive (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
