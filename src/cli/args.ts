// A small flag parser: `--name value`, `--name=value`, boolean `--flag`, repeated flags collect.

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

export function parseArgs(argv: string[], booleanFlags: Set<string> = new Set()): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      let name: string;
      let value: string;
      if (eq > 0) {
        name = a.slice(2, eq);
        value = a.slice(eq + 1);
      } else {
        name = a.slice(2);
        if (booleanFlags.has(name) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) value = 'true';
        else value = argv[++i];
      }
      const list = flags.get(name) ?? [];
      list.push(value);
      flags.set(name, list);
    } else {
      positional.push(a);
    }
  }
  return { positional, flags };
}

export function flag(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  const v = args.flags.get(name);
  return v ? v[v.length - 1] : fallback;
}

export function flagList(args: ParsedArgs, name: string): string[] {
  return (args.flags.get(name) ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function flagBool(args: ParsedArgs, name: string): boolean {
  const v = flag(args, name);
  return v === 'true' || v === '1' || v === 'yes';
}
