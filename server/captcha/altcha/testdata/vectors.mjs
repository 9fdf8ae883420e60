// Writes vectors.json: challenges made and solved by the real altcha-lib
// (npm altcha-lib 2.8.0, its v1 API, the one the altcha 2.x widget speaks),
// so that the Go tests check this package against the reference, not against
// itself. Regenerate:
//   npm install altcha-lib@2.8.0 && node testdata/vectors.mjs > testdata/vectors.json
// The key is what Altcha.HMACKey("demo-app") derives from the test key
// "0123456789abcdef0123456789abcdef".
import { createChallenge, solveChallenge } from 'altcha-lib/v1';

const hmacKey = 'a828c8a137cac2bc2b51e94bfb728389eff62ef655b86024030694dda091e7a0';
const out = { library: 'altcha-lib@2.8.0 (v1)', scope: 'demo-app', hmac_key: hmacKey, vectors: [] };
for (const [salt, number, expires] of [
  ['0a1b2c3d4e5f60718293a4b5', 4242, 4102444800],
  ['ffeeddccbbaa998877665544', 0, 4102444800],
  ['00112233445566778899aabb', 99999, 1000000000],
]) {
  const c = await createChallenge({
    hmacKey, maxnumber: 100000, number, salt, expires: new Date(expires * 1000),
  });
  const s = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
  const payload = Buffer.from(JSON.stringify({
    algorithm: c.algorithm, challenge: c.challenge, number: s.number,
    salt: c.salt, signature: c.signature, took: s.took,
  })).toString('base64');
  out.vectors.push({ challenge: c, number, payload });
}
console.log(JSON.stringify(out, null, 2));
