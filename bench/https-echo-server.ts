// The transport ceiling of the create benchmark: a bare Node HTTPS server with the same TLS
// setup as `navarch server` (its serving certificate, client certificates verified against
// its CA) that only parses the JSON body, stamps two metadata fields and answers 201. No
// API server built on Node's HTTPS stack can create objects faster on this machine.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';

const [tlsDir, port] = [process.argv[2]!, Number(process.argv[3])];
const server = https.createServer(
  { key: readFileSync(join(tlsDir, 'server.key')), cert: readFileSync(join(tlsDir, 'server.crt')), ca: readFileSync(join(tlsDir, 'ca.crt')), requestCert: true, rejectUnauthorized: true },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const object = JSON.parse(Buffer.concat(chunks).toString());
      object.metadata.uid = '00000000-0000-0000-0000-000000000000';
      object.metadata.resourceVersion = '1';
      const body = JSON.stringify(object);
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  },
);
server.listen(port, '127.0.0.1', () => process.send?.('listening'));
process.on('disconnect', () => process.exit(0));
