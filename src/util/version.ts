// Version reported by `navarch version`, /version and node info.
export const navarchVersion = '0.1.0';
/** The Kubernetes API version navarch serves (reported in /version as gitVersion). */
export const kubernetesVersion = { major: '1', minor: '31', gitVersion: 'v1.31.0-navarch' };
