// Files this process (or an earlier one killed before it could clean up) leaves behind. Each helper
// removes only what matches its own pattern exactly, only regular files, and only when it is safe.
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * onnxruntime-node's bundled library creates an empty `$TMPDIR/mat-debug-<pid>.log` when the first
 * InferenceSession of a process is created, and never removes it. Ours is removed if still empty.
 */
export function removeOrtDebugLog(dir: string = tmpdir(), pid: number = process.pid): boolean {
  return removeIf(join(dir, `mat-debug-${pid}.log`), (st) => st.size === 0);
}

/**
 * Temp files of an atomic save (`<file>.tmp-<pid>`) whose writer is gone (kill -9 mid-save). A temp
 * file of a live process other than this one is left alone: that process may be saving right now.
 * Returns the removed paths.
 */
export function removeStaleTempFiles(file: string): string[] {
  const dir = dirname(file);
  const prefix = `${basename(file)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+$/.test(name.slice(prefix.length))) continue;
    const pid = Number(name.slice(prefix.length));
    if (pid !== process.pid && alive(pid)) continue;
    const path = join(dir, name);
    if (removeIf(path, () => true)) removed.push(path);
  }
  return removed;
}

/** Unlinks a regular file owned by this user when `ok(stat)`; never follows or removes a link. */
function removeIf(path: string, ok: (st: { size: number }) => boolean): boolean {
  try {
    const st = lstatSync(path);
    const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
    if (!st.isFile() || !mine || !ok(st)) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
