// kubectl autoscale / get hpa / top against a real server (no node agent: no pods run, so the
// HPA reports its metric as unknown and kubectl top finds no metrics yet — the wiring is what
// is checked: discovery of metrics.k8s.io, the HPA controller's status, the printer).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer, eventually } from './harness.js';


describe('autoscaling with kubectl', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('kubectl autoscale creates an HPA the controller reports on; metrics.k8s.io is discoverable', async () => {
    server.kubectl(['create', 'deployment', 'web', '--image=busybox:1.36']);
    server.kubectl(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=5']);
    const hpa = await eventually(() => {
      const o = JSON.parse(server.kubectl(['get', 'hpa', 'web', '-o', 'json']).stdout);
      return (o.status?.conditions ?? []).some((c: any) => c.type === 'ScalingActive') && o;
    }, 'HPA status');
    assert.equal(hpa.spec.metrics[0].resource.target.averageUtilization, 50);
    const table = server.kubectl(['get', 'hpa']).stdout;
    assert.match(table, /web\s+Deployment\/web\s+cpu: <unknown>\/50%\s+1\s+5\s+1/);
    const resources = server.kubectl(['api-resources', '--api-group=metrics.k8s.io']).stdout;
    assert.match(resources, /pods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics/);
    const top = server.kubectl(['top', 'pods'], { allowFail: true });
    // With the API discovered, kubectl asks it (and finds no metrics yet) instead of reporting the API missing.
    assert.doesNotMatch(top.stderr, /Metrics API not available/);
  });
});
