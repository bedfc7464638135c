// The tiny subset of POSIX sh that fake containers "run", so the shared contract tests (and
// scale tests) can describe behaviour the same way for fake and real runtimes.
// Supported: `;` and `&` lists; echo (with >&2), exit N, sleep N, wait, trap 'ACTION' TERM,
// pwd, cat, true, false, :; "…" '…' quoting; $VAR, ${VAR} and $(pwd) expansion.
// Anything else is "not found" (127) — except a non-shell container entrypoint, which is
// simulated as a long-running server.

export interface Statement { words: Word[]; background: boolean; toStderr: boolean }
/** A word is a list of literal / variable parts; quoting only decides how it splits. */
type Part = { lit: string } | { var: string } | { pwd: true };
type Word = Part[];

export function parseScript(script: string): Statement[] {
  const out: Statement[] = [];
  let words: Word[] = [];
  let word: Word | null = null;
  let toStderr = false;
  const push = (p: Part) => { (word ??= []).push(p); };
  const endWord = () => { if (word) { words.push(word); word = null; } };
  const endStatement = (background: boolean) => {
    endWord();
    if (words.length) out.push({ words, background, toStderr });
    words = []; toStderr = false;
  };
  let i = 0;
  const readVar = (): Part => {
    // at '$'
    if (script.startsWith('$(pwd)', i)) { i += 6; return { pwd: true }; }
    if (script[i + 1] === '{') { const j = script.indexOf('}', i); const name = script.slice(i + 2, j); i = j + 1; return { var: name }; }
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^\?/.exec(script.slice(i + 1));
    if (!m) { i++; return { lit: '$' }; }
    i += 1 + m[0].length;
    return { var: m[0] };
  };
  while (i < script.length) {
    const c = script[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      endWord(); i++;
      if (c === '\n') endStatement(false);
    } else if (c === ';') { endStatement(false); i++; }
    else if (c === '&') { endStatement(true); i++; }
    else if (script.startsWith('>&2', i)) { endWord(); toStderr = true; i += 3; }
    else if (c === "'") { const j = script.indexOf("'", i + 1); push({ lit: script.slice(i + 1, j) }); word ??= []; i = j + 1; }
    else if (c === '"') {
      i++; word ??= [];
      while (i < script.length && script[i] !== '"') {
        if (script[i] === '$') push(readVar());
        else if (script[i] === '\\' && i + 1 < script.length) { push({ lit: script[i + 1] }); i += 2; }
        else { push({ lit: script[i] }); i++; }
      }
      i++;
    } else if (c === '$') push(readVar());
    else { push({ lit: c }); i++; }
  }
  endStatement(false);
  return out;
}

export function expandWord(w: Word, env: Record<string, string>, cwd: string): string {
  return w.map((p) => ('lit' in p ? p.lit : 'pwd' in p ? cwd : env[p.var] ?? '')).join('');
}

export function wordsOf(argv: string[]): Statement[] {
  return [{ words: argv.map((a) => [{ lit: a }]), background: false, toStderr: false }];
}
