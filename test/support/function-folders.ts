// The functions cloud-pam deploys are the folders under `functions/` (each holds the handler a
// PamFunction bundles). Tests that hold for every function list them from here, so a new function is
// checked by them without being added to a list, and a folder the stacks forget fails them.
import { readdirSync } from 'node:fs';
import path from 'node:path';

const FUNCTIONS_DIR = path.resolve(import.meta.dirname, '../../functions');

/** The folder names under `functions/`, sorted (`handle-api`, `process-command`, …). */
export function functionFolders(): string[] {
  return readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
