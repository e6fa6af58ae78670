/**
 * Command history with ↑/↓ navigation. Moving away from the line being typed keeps it as a draft,
 * restored when ↓ goes past the newest entry (as bash and readline do).
 */
export class History {
  private readonly entries: string[];
  /** entries.length = the draft line. */
  private position: number;
  private draft = '';

  constructor(
    entries: readonly string[] = [],
    private readonly limit = 1000,
  ) {
    this.entries = entries.slice(-limit);
    this.position = this.entries.length;
  }

  get all(): readonly string[] {
    return this.entries;
  }

  /** Records a submitted line (not blank lines, not an immediate repeat); returns whether it was added. */
  add(line: string): boolean {
    this.position = this.entries.length;
    this.draft = '';
    if (line.trim() === '' || this.entries.at(-1) === line) return false;
    this.entries.push(line);
    if (this.entries.length > this.limit) this.entries.shift();
    this.position = this.entries.length;
    return true;
  }

  /** The older entry, or undefined at the oldest. `current` is the line shown now. */
  previous(current: string): string | undefined {
    if (this.position === 0) return undefined;
    if (this.position === this.entries.length) this.draft = current;
    return this.entries[--this.position];
  }

  /** The newer entry, the draft past the newest, or undefined when already at the draft. */
  next(): string | undefined {
    if (this.position >= this.entries.length) return undefined;
    this.position++;
    return this.position === this.entries.length ? this.draft : this.entries[this.position];
  }
}
