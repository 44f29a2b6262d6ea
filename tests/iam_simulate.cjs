// Evaluates AWS IAM requests with @cloud-copilot/iam-simulate (pinned in package.json): reads a JSON array of
// simulations (the library's `Simulation` shape) on stdin and prints one line per simulation with its overall
// result ("Allowed", "ImplicitlyDenied", "ExplicitlyDenied") or the input errors the library found.
'use strict';
const { runSimulation } = require('@cloud-copilot/iam-simulate');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const results = [];
  for (const simulation of simulations) {
    const outcome = await runSimulation(simulation, {});
    if (outcome.resultType === 'error') {
      results.push({ result: 'error', errors: outcome.errors });
    } else {
      results.push({ result: outcome.overallResult });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
