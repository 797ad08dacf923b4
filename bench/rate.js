// Open-loop load at a held rate (what wrk2 does; Debian's wrk cannot).
// Usage: node bench/rate.js BASE_URL PATHS_FILE RATE SECONDS
// Request i is due at start + i / RATE whatever happened to earlier ones, and its
// latency is counted from that due time: a stall delays the requests behind it
// and shows in the percentiles instead of slowing the generator down.
"use strict";
const fs = require("fs");
const http = require("http");

const [base, pathsFile, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const paths = fs.readFileSync(pathsFile, "utf8").split("\n").filter(Boolean);
const total = Math.round(rate * seconds);
const url = new URL(base);
const answer = /^(\+[1-9]\d{7,14}(,\+[1-9]\d{7,14})*)?$/;

// Dial Whom answers numbers as text; Programmable Connect answers JSON.
function valid(type, body) {
  if (type.startsWith("application/json")) {
    try {
      JSON.parse(body);
      return true;
    } catch (error) {
      return false;
    }
  }
  return type.startsWith("text/plain") && answer.test(body);
}

const latencies = [];
let sent = 0;
let finished = 0;
let errors = 0;
let invalid = 0;
let lateSends = 0;
const start = process.hrtime.bigint();
const elapsedMs = () => Number(process.hrtime.bigint() - start) / 1e6;

function send(index) {
  const due = (index * 1000) / rate;
  if (elapsedMs() - due > 5) lateSends += 1;
  const request = http.get(
    { host: url.hostname, port: url.port, path: paths[index % paths.length], agent: false },
    (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => {
        latencies.push(elapsedMs() - due);
        const body = Buffer.concat(chunks).toString();
        const type = response.headers["content-type"] || "";
        if (response.statusCode !== 200 || !valid(type, body)) {
          invalid += 1;
        }
        finish();
      });
    },
  );
  request.setTimeout(10000, () => request.destroy(new Error("timeout")));
  request.on("error", () => {
    errors += 1;
    finish();
  });
}

function finish() {
  finished += 1;
  if (finished === total) report();
}

function tick() {
  const now = elapsedMs();
  while (sent < total && (sent * 1000) / rate <= now) send(sent++);
  if (sent < total) setTimeout(tick, Math.max(0, (sent * 1000) / rate - elapsedMs()));
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function report() {
  const sorted = latencies.slice().sort((a, b) => a - b);
  const result = {
    rate,
    seconds,
    requests: total,
    achieved_rate: total / (elapsedMs() / 1000),
    p50_ms: percentile(sorted, 50),
    p90_ms: percentile(sorted, 90),
    p99_ms: percentile(sorted, 99),
    max_ms: sorted[sorted.length - 1] ?? null,
    over_50ms: sorted.filter((ms) => ms > 50).length,
    errors,
    invalid,
    late_sends: lateSends,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

tick();
