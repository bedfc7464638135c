// The CRI container log format, as written by containerd/CRI-O and read by the kubelet's
// `kubectl logs` path: `<RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n`, where P
// marks a partial line (split because it was too long or the stream paused mid-line).

export interface CriLogLine { time: string; stream: 'stdout' | 'stderr'; partial: boolean; content: string }

/** "2024-01-01T00:00:00.123Z" → "2024-01-01T00:00:00.123000000Z" (JS clocks are millisecond). */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, -1) + '000000Z';
}

export function formatCriLogLine(ms: number, stream: 'stdout' | 'stderr', partial: boolean, content: string): string {
  return `${rfc3339Nano(ms)} ${stream} ${partial ? 'P' : 'F'} ${content}\n`;
}

export function parseCriLogLine(line: string): CriLogLine | null {
  const m = /^(\S+) (stdout|stderr) ([PF]) (.*)$/s.exec(line);
  if (!m) return null;
  return { time: m[1], stream: m[2] as 'stdout' | 'stderr', partial: m[3] === 'P', content: m[4] };
}

/** Joins partial lines back into the messages the container wrote (what `kubectl logs` shows). */
export function readCriLog(text: string): { stream: 'stdout' | 'stderr'; content: string }[] {
  const out: { stream: 'stdout' | 'stderr'; content: string }[] = [];
  let pending: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    const l = parseCriLogLine(raw);
    if (!l) continue;
    const acc = (pending[l.stream] ?? '') + l.content;
    if (l.partial) pending[l.stream] = acc;
    else { out.push({ stream: l.stream, content: acc }); delete pending[l.stream]; }
  }
  return out;
}
