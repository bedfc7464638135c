// Kubernetes' remotecommand channel protocol over WebSocket (k8s.io/apimachinery wsstream):
// every binary message starts with one byte naming the stream — 0 stdin, 1 stdout,
// 2 stderr, 3 error (a meta/v1 Status, v4+), 4 resize ({"Width","Height"}, v4+); v5 adds
// 255 "close", whose payload names the stream the client has finished writing (stdin).
// The base64 variants carry the channel as an ASCII digit followed by base64 text.

export const channelProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export const base64ChannelProtocols = ['v5.base64.channel.k8s.io', 'v4.base64.channel.k8s.io', 'v3.base64.channel.k8s.io', 'v2.base64.channel.k8s.io', 'base64.channel.k8s.io'] as const;

export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** The first protocol the client offers that we speak (the client lists them in preference order). */
export function chooseProtocol(offered: Iterable<string>, supported: readonly string[]): string | undefined {
  for (const p of offered) if (supported.includes(p)) return p;
  return undefined;
}

export function isBase64Protocol(protocol: string): boolean {
  return protocol.includes('base64');
}

export function protocolVersion(protocol: string): number {
  const m = /^v(\d+)\./.exec(protocol);
  return m ? Number(m[1]) : 1;
}

export function encodeFrame(protocol: string, channel: number, data: Buffer): Buffer | string {
  if (isBase64Protocol(protocol)) return String.fromCharCode(48 + channel) + data.toString('base64');
  return Buffer.concat([Buffer.from([channel]), data]);
}

export function decodeFrame(protocol: string, message: Buffer | string, isBinary: boolean): { channel: number; data: Buffer } | undefined {
  if (isBase64Protocol(protocol) || !isBinary) {
    const text = typeof message === 'string' ? message : message.toString('utf8');
    if (text.length === 0) return undefined;
    const channel = text.charCodeAt(0) - 48;
    return { channel, data: Buffer.from(text.slice(1), isBase64Protocol(protocol) ? 'base64' : 'utf8') };
  }
  const buf = Buffer.isBuffer(message) ? message : Buffer.from(message);
  if (buf.length === 0) return undefined;
  return { channel: buf[0]!, data: buf.subarray(1) };
}

/** The error-channel Status the client turns into an exit code (remotecommand v4). */
export function exitStatus(exitCode: number, command: string[]): any {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

export function internalErrorStatus(message: string): any {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}
