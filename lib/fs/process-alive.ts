/**
 * Whether process `pid` runs on this machine (this process counts). Temporary files and folders are
 * named after the process that writes them; one whose process is gone was left by a kill and may be
 * removed, one whose process lives belongs to a run still going and must not be touched.
 */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
