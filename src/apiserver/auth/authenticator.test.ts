import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { createPrivateKey } from 'node:crypto';
import type { KubeObject } from '../../api/types.js';
import {
  createAuthenticator,
  createServiceAccountTokenIssuer,
  type AuthenticatorOptions,
  type UserInfo,
} from './authenticator.js';
import {
  createCertificateAuthority,
  generatePrivateKeyPem,
  issueClientCertificate,
  issueServingCertificate,
  pemDecode,
  type CertificateAuthority,
} from './pki.js';
import { formatJoinToken } from './join-token.js';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const raw = (certPem: string) => ({ raw: pemDecode(certPem, 'CERTIFICATE') });

function bootstrapSecret(id: string, secret: string, extra: Record<string, string> = {}): KubeObject {
  const data: Record<string, string> = {
    'token-id': b64(id),
    'token-secret': b64(secret),
    'usage-bootstrap-authentication': b64('true'),
    'usage-bootstrap-signing': b64('true'),
  };
  for (const [k, v] of Object.entries(extra)) data[k] = b64(v);
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token', data };
}

describe('authenticator', () => {
  let ca: CertificateAuthority;
  let saKey: { privateKeyPem: string; publicKeyPem: string };
  let clock: Date;
  const objects = new Map<string, KubeObject>();
  const bootstrapTokens = new Map<string, KubeObject>();

  function make(extra: Partial<AuthenticatorOptions> = {}) {
    return createAuthenticator({
      caPem: ca.certPem,
      serviceAccountPublicKey: saKey.publicKeyPem,
      issuer: ISSUER,
      lookupBootstrapToken: (id) => bootstrapTokens.get(id) ?? null,
      lookupServiceAccount: (ns, name) => objects.get(`sa/${ns}/${name}`) ?? null,
      lookupPod: (ns, name) => objects.get(`pod/${ns}/${name}`) ?? null,
      lookupSecret: (ns, name) => objects.get(`secret/${ns}/${name}`) ?? null,
      now: () => clock,
      ...extra,
    });
  }
  const issuer = () => createServiceAccountTokenIssuer({ privateKeyPem: saKey.privateKeyPem, issuer: ISSUER, now: () => clock, newId: () => 'jti-1' });

  before(async () => {
    ca = await createCertificateAuthority();
    saKey = await generatePrivateKeyPem();
    clock = new Date();
    objects.set('sa/default/builder', { metadata: { name: 'builder', namespace: 'default', uid: 'sa-uid' } });
    objects.set('pod/default/web-0', { metadata: { name: 'web-0', namespace: 'default', uid: 'pod-uid' } });
  });

  test('no credentials → anonymous (or 401 when anonymous auth is off)', async () => {
    assert.deepEqual(await make().authenticate({}), { username: 'system:anonymous', groups: ['system:unauthenticated'] });
    assert.deepEqual(await make().authenticate({ peerCertificate: {} as never }), { username: 'system:anonymous', groups: ['system:unauthenticated'] });
    assert.equal(await make({ anonymous: false }).authenticate({}), null);
  });

  test('client certificate: CN is the user, O the groups, plus system:authenticated', async () => {
    const client = await issueClientCertificate(ca, { user: 'jane', groups: ['dev', 'ops'] });
    const user = await make().authenticate({ peerCertificate: raw(client.certPem) });
    assert.deepEqual(user, { username: 'jane', groups: ['dev', 'ops', 'system:authenticated'] });
  });

  test('client certificate from another CA, expired or not yet valid is refused (never anonymous)', async () => {
    const other = await createCertificateAuthority();
    const stranger = await issueClientCertificate(other, { user: 'eve', groups: ['system:masters'] });
    assert.equal(await make().authenticate({ peerCertificate: raw(stranger.certPem) }), null);
    // a serving certificate (serverAuth only) is not a client credential
    const serving = await issueServingCertificate(ca);
    assert.equal(await make().authenticate({ peerCertificate: raw(serving.certPem) }), null);
    const shortLived = await issueClientCertificate(ca, { user: 'temp', validityDays: 1 });
    assert.equal(await make({ now: () => new Date(Date.now() + 2 * 86400_000) }).authenticate({ peerCertificate: raw(shortLived.certPem) }), null);
    assert.equal(await make({ now: () => new Date(Date.now() - 86400_000) }).authenticate({ peerCertificate: raw(shortLived.certPem) }), null);
  });

  test('bound service account token: user, groups, uid and pod extras', async () => {
    const { token, expirationTimestamp } = await issuer().issueServiceAccountToken({
      namespace: 'default',
      name: 'builder',
      uid: 'sa-uid',
      expirationSeconds: 3600,
      boundObject: { kind: 'Pod', name: 'web-0', uid: 'pod-uid', nodeName: 'node-1', nodeUid: 'node-uid' },
    });
    assert.equal(Date.parse(expirationTimestamp), Math.floor(clock.getTime() / 1000) * 1000 + 3600_000);
    const claims = decodeJwt(token) as Record<string, any>;
    assert.deepEqual(claims.aud, [ISSUER]);
    assert.equal(claims.sub, 'system:serviceaccount:default:builder');
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'web-0', uid: 'pod-uid' });
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    const user = await make().authenticate({ authorizationHeader: `Bearer ${token}` });
    const expected: UserInfo = {
      username: 'system:serviceaccount:default:builder',
      uid: 'sa-uid',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['web-0'],
        'authentication.kubernetes.io/pod-uid': ['pod-uid'],
        'authentication.kubernetes.io/node-name': ['node-1'],
        'authentication.kubernetes.io/node-uid': ['node-uid'],
        'authentication.kubernetes.io/credential-id': ['JTI=jti-1'],
      },
    };
    assert.deepEqual(user, expected);
  });

  test('bound token is refused when expired, for another audience, or when its pod or account is gone', async () => {
    const tokens = issuer();
    const { token } = await tokens.issueServiceAccountToken({ namespace: 'default', name: 'builder', uid: 'sa-uid', expirationSeconds: 600 });
    assert.ok(await make().authenticate({ authorizationHeader: `Bearer ${token}` }));
    assert.equal(await make({ now: () => new Date(clock.getTime() + 700_000) }).authenticate({ authorizationHeader: `Bearer ${token}` }), null);

    const vault = await tokens.issueServiceAccountToken({ namespace: 'default', name: 'builder', uid: 'sa-uid', audiences: ['vault'] });
    assert.equal(await make().authenticate({ authorizationHeader: `Bearer ${vault.token}` }), null);
    assert.ok(await make({ audiences: ['vault', ISSUER] }).authenticate({ authorizationHeader: `Bearer ${vault.token}` }));

    const podBound = await tokens.issueServiceAccountToken({ namespace: 'default', name: 'builder', uid: 'sa-uid', boundObject: { kind: 'Pod', name: 'web-0', uid: 'old-pod-uid' } });
    assert.equal(await make().authenticate({ authorizationHeader: `Bearer ${podBound.token}` }), null, 'pod recreated with a new uid');

    const recreated = await tokens.issueServiceAccountToken({ namespace: 'default', name: 'builder', uid: 'other-uid' });
    assert.equal(await make().authenticate({ authorizationHeader: `Bearer ${recreated.token}` }), null, 'account recreated');
    const missing = await tokens.issueServiceAccountToken({ namespace: 'default', name: 'ghost', uid: 'x' });
    assert.equal(await make().authenticate({ authorizationHeader: `Bearer ${missing.token}` }), null);
    await assert.rejects(tokens.issueServiceAccountToken({ namespace: 'default', name: 'builder', uid: 'sa-uid', expirationSeconds: 60 }), /10 minutes/);
  });

  test('token signed by another key, or with a forged signature, is refused', async () => {
    const otherKey = await generatePrivateKeyPem();
    const forged = await createServiceAccountTokenIssuer({ privateKeyPem: otherKey.privateKeyPem, issuer: ISSUER }).issueServiceAccountToken({ namespace: 'default', name: 'builder', uid: 'sa-uid' });
    assert.equal(await make().authenticate({ authorizationHeader: `Bearer ${forged.token}` }), null);
    // alg "none" is never accepted
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'system:serviceaccount:default:builder', aud: [ISSUER], exp: 9e9, 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'builder', uid: 'sa-uid' } } })).toString('base64url');
    assert.equal(await make().authenticate({ authorizationHeader: `Bearer ${header}.${body}.` }), null);
  });

  test('legacy secret-based token is accepted while its Secret holds it', async () => {
    const tokens = issuer();
    const token = await tokens.issueLegacyServiceAccountToken({ namespace: 'default', name: 'builder', uid: 'sa-uid', secretName: 'builder-token-abcde' });
    assert.equal(decodeJwt(token).iss, 'kubernetes/serviceaccount');
    assert.equal(await make().authenticate({ authorizationHeader: `Bearer ${token}` }), null, 'secret does not exist');
    objects.set('secret/default/builder-token-abcde', { metadata: { name: 'builder-token-abcde', namespace: 'default', uid: 's-uid' }, data: { token: b64(token) } });
    const user = await make().authenticate({ authorizationHeader: `Bearer ${token}` });
    assert.equal(user?.username, 'system:serviceaccount:default:builder');
    assert.equal(user?.uid, 'sa-uid');
  });

  test('RSA service account keys work too', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privateKeyPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicKeyPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { token } = await createServiceAccountTokenIssuer({ privateKeyPem, issuer: ISSUER }).issueServiceAccountToken({ namespace: 'default', name: 'builder', uid: 'sa-uid' });
    assert.equal(decodeProtectedHeader(token).alg, 'RS256');
    const user = await make({ serviceAccountPublicKey: [saKey.publicKeyPem, publicKeyPem], now: () => new Date() }).authenticate({ authorizationHeader: `Bearer ${token}` });
    assert.equal(user?.username, 'system:serviceaccount:default:builder');
  });

  describe('bootstrap tokens', () => {
    const cases: { name: string; secret?: KubeObject; token: string; want: UserInfo | null }[] = [
      {
        name: 'valid token with extra groups',
        secret: bootstrapSecret('abcdef', '0123456789abcdef', { 'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token' }),
        token: 'abcdef.0123456789abcdef',
        want: { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'] },
      },
      { name: 'wrong secret', secret: bootstrapSecret('abcdef', '0123456789abcdef'), token: 'abcdef.0123456789abcdee', want: null },
      { name: 'no such token', token: 'zzzzzz.0123456789abcdef', want: null },
      {
        name: 'expired',
        secret: bootstrapSecret('abcdef', '0123456789abcdef', { expiration: '2000-01-01T00:00:00Z' }),
        token: 'abcdef.0123456789abcdef',
        want: null,
      },
      {
        name: 'not for authentication',
        secret: { ...bootstrapSecret('abcdef', '0123456789abcdef'), data: { 'token-id': b64('abcdef'), 'token-secret': b64('0123456789abcdef') } },
        token: 'abcdef.0123456789abcdef',
        want: null,
      },
      {
        name: 'extra group outside system:bootstrappers:',
        secret: bootstrapSecret('abcdef', '0123456789abcdef', { 'auth-extra-groups': 'system:masters' }),
        token: 'abcdef.0123456789abcdef',
        want: null,
      },
      { name: 'wrong Secret type', secret: { ...bootstrapSecret('abcdef', '0123456789abcdef'), type: 'Opaque' }, token: 'abcdef.0123456789abcdef', want: null },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        bootstrapTokens.clear();
        if (c.secret) bootstrapTokens.set(c.token.slice(0, 6), c.secret);
        assert.deepEqual(await make().authenticate({ authorizationHeader: `Bearer ${c.token}` }), c.want);
      });
    }
  });

  test('the server join token maps to the node bootstrap identity; garbage tokens are 401', async () => {
    const joinToken = formatJoinToken('a'.repeat(64), 'f00dfeed'.repeat(4));
    const auth = make({ joinToken });
    for (const presented of [joinToken, 'f00dfeed'.repeat(4)]) {
      const user = await auth.authenticate({ authorizationHeader: `Bearer ${presented}` });
      assert.equal(user?.username, 'system:bootstrap:navarch-join');
      assert.ok(user?.groups.includes('system:bootstrappers'));
      assert.ok(user?.groups.includes('system:authenticated'));
    }
    assert.equal(await auth.authenticate({ authorizationHeader: `Bearer ${formatJoinToken('b'.repeat(64), 'f00dfeed'.repeat(4))}` }), null);
    assert.equal(await auth.authenticate({ authorizationHeader: 'Bearer nope' }), null);
    assert.equal(await auth.authenticate({ authorizationHeader: 'Basic dXNlcjpwYXNz' }), null);
  });

  test('a JWT from an unknown issuer is not a service account token', async () => {
    const key = createPrivateKey(saKey.privateKeyPem);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://elsewhere').setSubject('x').setExpirationTime('1h').sign(key);
    assert.equal(await make().authenticate({ authorizationHeader: `Bearer ${token}` }), null);
  });

  test('over a real TLS connection: the peer certificate Node hands over authenticates the admin', async () => {
    const { issueAdminCertificate } = await import('./pki.js');
    const serving = await issueServingCertificate(ca);
    const admin = await issueAdminCertificate(ca);
    const auth = make({ now: () => new Date() });
    const server = https.createServer({ key: serving.keyPem, cert: serving.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peerCertificate = (req.socket as TLSSocket).getPeerCertificate();
      auth.authenticate({ peerCertificate, authorizationHeader: req.headers.authorization }).then((user) => {
        res.statusCode = user ? 200 : 401;
        res.end(JSON.stringify(user));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const call = (options: https.RequestOptions) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, path: '/', ca: ca.certPem, ...options }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const withCert = await call({ cert: admin.certPem, key: admin.keyPem });
      assert.equal(withCert.status, 200);
      assert.deepEqual(JSON.parse(withCert.body), { username: 'navarch-admin', groups: ['system:masters', 'system:authenticated'] });
      const anonymous = await call({});
      assert.deepEqual(JSON.parse(anonymous.body), { username: 'system:anonymous', groups: ['system:unauthenticated'] });
      const badToken = await call({ headers: { authorization: 'Bearer abcdef.0000000000000000' } });
      assert.equal(badToken.status, 401);
    } finally {
      server.close();
    }
  });
});
