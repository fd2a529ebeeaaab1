// Exports generated for the end-to-end tests that need large inputs, and the files of an export
// directory for the bench tools.
import fs from 'node:fs';
import path from 'node:path';

/// A describe-network-interfaces export of `n` ENIs, printed as the AWS CLI prints it.
export function eniExport(n) {
  const enis = [];
  for (let i = 0; i < n; i++) {
    const ip = (k) => `10.${(i >> 8) & 255}.${i & 255}.${10 + k}`;
    enis.push({
      NetworkInterfaceId: `eni-${i.toString(16).padStart(17, '0')}`,
      VpcId: 'vpc-0e2e0000000000000', SubnetId: 'subnet-0e2e000000000000', AvailabilityZone: 'eu-west-1a',
      Description: 'aws-K8S-i-0e2e', InterfaceType: 'interface', Status: 'in-use',
      Groups: [{ GroupId: 'sg-0e2e0000000000001', GroupName: 'nodes' }],
      PrivateIpAddress: ip(0),
      PrivateIpAddresses: Array.from({ length: 10 }, (_, k) => ({ Primary: k === 0, PrivateIpAddress: ip(k), PrivateDnsName: `ip-${ip(k).replaceAll('.', '-')}.eu-west-1.compute.internal` })),
      Attachment: { InstanceId: `i-${(i >> 2).toString(16).padStart(17, '0')}`, DeviceIndex: i & 3, NetworkCardIndex: 0, Status: 'attached' },
      TagSet: [],
    });
  }
  return JSON.stringify({ NetworkInterfaces: enis }, null, 4);
}

/// A `kubectl get pods -A -o json` export of `n` pods on the ENIs of `eniExport(n)`: pod `i` has
/// the second address of ENI `i`, as the VPC CNI hands out an ENI's secondary addresses.
export function podExport(n) {
  const items = [];
  for (let i = 0; i < n; i++) {
    const ip = `10.${(i >> 8) & 255}.${i & 255}.11`;
    items.push({
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: `web-7f9c4-${i}`, namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '7f9c4' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7f9c4', controller: true, uid: `0e2e-${i}` }],
      },
      spec: { nodeName: `node-${i >> 2}`, containers: [{ name: 'web', image: 'public.ecr.aws/nginx/nginx:1.27', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
      status: { phase: 'Running', hostIP: `10.${(i >> 8) & 255}.${i & 255}.10`, podIP: ip, podIPs: [{ ip }] },
    });
  }
  return JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 4);
}

/// The JSON files of an export directory (as `cargo xtask gen-export` writes it), in name order,
/// as paths: what the bench tools choose in the page.
export function exportFiles(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}
