import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalQuantity, canonicalizeQuantity, formatQuantity, parseKubeQuantity } from './index.js';

// Expected outputs follow apimachinery's quantity_test.go (TestQuantityParse, TestQuantityString,
// TestQuantityParseEmit) and its documented rules; each line is what `kubectl get -o yaml` shows.
const canonical: [string | number, string][] = [
  // zeros never keep a suffix
  ['0', '0'], ['0n', '0'], ['0m', '0'], ['0Ki', '0'], ['0Gi', '0'], ['0T', '0'], ['-0', '0'], ['00', '0'],
  // the cases users meet
  ['0.5', '500m'], ['0.1', '100m'], ['1.1', '1100m'], ['1024Mi', '1Gi'], ['1000', '1k'], ['1000000', '1M'],
  ['1.5Gi', '1536Mi'], ['1536Mi', '1536Mi'], ['0.5Gi', '512Mi'], ['1e3', '1e3'], ['100M', '100M'], ['1000M', '1G'],
  ['2000m', '2'], ['1500m', '1500m'], ['250m', '250m'], ['128974848', '128974848'], ['129e6', '129e6'], ['123Mi', '123Mi'],
  // binary suffixes that already are canonical, and ones that are not
  ['1Ki', '1Ki'], ['1Mi', '1Mi'], ['1Gi', '1Gi'], ['3Ei', '3Ei'], ['4Pi', '4Pi'], ['1024Gi', '1Ti'], ['307200Ki', '300Mi'],
  ['1025024Mi', '1001Gi'], ['2048Ki', '2Mi'],
  // decimal re-suffixing
  ['0.001T', '1G'], ['1000u', '1m'], ['1.08', '1080m'], ['1080000000n', '1080m'], ['0.5e0', '500e-3'], ['.001e12', '1e9'],
  ['0.001e0', '1e-3'], ['1000e-12', '1e-9'], ['1.2e3', '1200'], ['1.3E+6', '1300e3'], ['50k', '50k'], ['8.1k', '8100'],
  ['2.5P', '2500T'], ['1.01E', '1010P'], ['1.0k', '1k'], ['1.50', '1500m'],
  // ParseQuantity keeps a written form that is already in canonical shape
  ['100.035k', '100.035k'], ['1E3', '1E3'], ['1.G', '1.G'], ['+1', '+1'], ['1e+3', '1e+3'], ['7.123456M', '7.123456M'],
  ['10.035M', '10.035M'], ['1.500k', '1.500k'], ['1.', '1.'], ['01', '01'], ['+1Ki', '+1Ki'],
  // rounding up to the nano
  ['3.001n', '4n'], ['0.0000000001', '1n'], ['0.0000000005', '1n'], ['0.9n', '1n'], ['0.00000012345', '124n'], ['1.1E-9', '2e-9'],
  ['0.5e-9', '1e-9'],
  // binary amounts that cannot print in Ki/Mi… print as decimals
  ['.001Ki', '1024m'], ['.000001Ki', '1024u'], ['.000000001Ki', '1024n'], ['.000000000001Ki', '2n'], ['100.035Ki', '102435840m'],
  ['0.5Ki', '512'], ['1.5Ki', '1536'], ['1.953125Ki', '2000'], ['0.05Gi', '53687091200m'],
  // negatives mirror positives
  ['-0.5', '-500m'], ['-1024Mi', '-1Gi'], ['-1000', '-1k'], ['-0.0000000001', '-1n'], ['-.001Ki', '-1024m'], ['-9.01', '-9010m'],
  // large amounts: BinarySI saturates at int64, decimal past E falls back to e-notation
  ['9Ei', '9223372036854775807'], ['9223372036854775807Ki', '9223372036854775807'], ['12E', '12E'], ['1000E', '1e21'],
  ['5000E', '5e21'], ['1e21', '1e21'],
  // troll-written but valid
  ['.001', '1m'], ['.0001k', '100m'], ['1.000', '1'], ['0.0005k', '500m'], ['0.00050k', '500m'],
  // JSON numbers (YAML `cpu: 0.5`) canonicalise the same way
  [0.5, '500m'], [1000, '1k'], [2, '2'], [0, '0'], [1e21, '1e+21'], [-0.25, '-250m'],
];

const amount = (q: { mantissa: bigint; exponent: number }): string => {
  // Compare exactly at the nano, where every parsed amount lives.
  const scaled = q.exponent >= -9 ? q.mantissa * 10n ** BigInt(q.exponent + 9) : q.mantissa;
  return scaled.toString();
};

describe('canonicalizeQuantity', () => {
  for (const [input, expected] of canonical) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(canonicalizeQuantity(input), expected);
      // The canonical form is the same amount (its format may differ: "2000" from a Ki reads back as 2k).
      const a = parseKubeQuantity(typeof input === 'number' ? String(input) : input)!;
      const b = parseKubeQuantity(expected)!;
      assert.equal(amount(a), amount(b));
    });
  }

  test('the table is large enough to pin the rules down', () => assert.ok(canonical.length >= 40));

  const invalid = ['', '1.1.M', '1+1.0M', '0.1mi', '0.1am', 'aoeu', '.5i', '1i', '-3.01i', '-3.01e-', '1e4294967297', '1K', '1e', '1Mi5', '1 Gi', '1,5', null, undefined, true, {}, Number.NaN, Infinity];
  for (const input of invalid) {
    test(`rejects ${JSON.stringify(input) ?? String(input)}`, () => assert.equal(canonicalizeQuantity(input), undefined));
  }

  test('surrounding whitespace is trimmed as UnmarshalJSON does', () => assert.equal(canonicalizeQuantity(' 1024Mi '), '1Gi'));

  test('canonicalQuantity shows what does not parse as written', () => {
    assert.equal(canonicalQuantity('0.5'), '500m');
    assert.equal(canonicalQuantity('nope'), 'nope');
    assert.equal(canonicalQuantity(undefined), '');
  });
});

describe('parseKubeQuantity', () => {
  test('keeps the format of the suffix', () => {
    assert.equal(parseKubeQuantity('1Gi')?.format, 'BinarySI');
    assert.equal(parseKubeQuantity('1G')?.format, 'DecimalSI');
    assert.equal(parseKubeQuantity('1e9')?.format, 'DecimalExponent');
    assert.equal(parseKubeQuantity('1E')?.format, 'DecimalSI');
    // a binary amount below one becomes decimal at parse time
    assert.equal(parseKubeQuantity('0.000000000001Ki')?.format, 'DecimalSI');
  });

  test('holds the exact amount', () => {
    const q = parseKubeQuantity('1.5Gi')!;
    assert.equal(amount(q), (1610612736n * 10n ** 9n).toString());
    const small = parseKubeQuantity('0.00000012345')!;
    assert.deepEqual([small.mantissa, small.exponent], [124n, -9]);
  });

  test('huge exponents are handled without materialising the power', () => {
    assert.equal(formatQuantity(parseKubeQuantity('1e-2000000000')!), '1e-9');
    assert.equal(formatQuantity(parseKubeQuantity('1e2000000000')!), '100e1999999998');
    assert.equal(formatQuantity(parseKubeQuantity('1e2000000001')!), '1e2000000001');
  });
});
