/**
 * The script's data folder, set as BATCH_DATA_DIR when this module loads: `--data-dir DIR`, or a
 * new temporary folder named after the script. Import it before anything from src/:
 * src/infra/paths.ts reads BATCH_DATA_DIR once, when it loads (imports run in order).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringArg } from './args';

const given = stringArg('--data-dir');

/** Whether the folder is the script's own temporary one (a script may remove it at the end). */
export const dataDirIsTemporary = !given;

export const dataDir = path.resolve(
  given || fs.mkdtempSync(path.join(os.tmpdir(), `${path.basename(process.argv[1] ?? 'script', '.ts')}-`)),
);

process.env.BATCH_DATA_DIR = dataDir;
