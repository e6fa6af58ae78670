/**
 * Ink reads `CI` / `CONTINUOUS_INTEGRATION` once, when `is-in-ci` is first imported, and in CI it
 * draws only the final frame: the prompt, the live progress bar and every answer stay invisible
 * until kbb exits. `kbb` reaches the Ink app only when stdin and stdout are terminals, where a
 * person (or a terminal driver such as tmux) is watching, so Ink is imported with those variables
 * hidden and then given back unchanged for the commands and child processes that read them.
 */
export async function importInkLive(): Promise<typeof import('ink')> {
  const names = ['CI', 'CONTINUOUS_INTEGRATION'] as const;
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  try {
    return await import('ink');
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}
