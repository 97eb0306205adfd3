// Reads lines from stdin, each a JSON list of state machine definitions, and answers each with one line: a JSON list of
// asl-validator's findings per definition. A test process keeps one of these running for all its calls
// (tests/oracles/state_machines.py): starting node and compiling asl-validator's schemas costs about 0.5 CPU-s a time.
//
// asl-validator 4.0.0 (pinned in package.json) builds a new Ajv and compiles its schemas on every call (about
// 0.2 s each, read in dist/src/checks/json-schema-errors.js). Ajv is made here to hand back one instance per set
// of options, so the schemas compile once per process; the formats it registers depend only on the options,
// which are the same for every call. The unit tests of the oracle show invalid definitions still found with it.
"use strict";
const path = require("path");

const validatorDir = path.dirname(require.resolve("asl-validator/package.json"));
const ajvModule = require(require.resolve("ajv", { paths: [validatorDir] }));
const Ajv = ajvModule.default;
const instances = new Map();
ajvModule.default = function SharedAjv(options) {
  const key = JSON.stringify(options, (k, v) => (k === "schemas" ? (v || []).map((s) => s.$id) : v));
  if (!instances.has(key)) {
    const ajv = new Ajv(options);
    // ajv-formats adds its keywords on every call; the shared instance keeps the first ones.
    const addKeyword = ajv.addKeyword.bind(ajv);
    ajv.addKeyword = (definition, ...rest) => {
      const names = [].concat(typeof definition === "string" ? definition : definition.keyword);
      return names.every((name) => ajv.getKeyword(name)) ? ajv : addKeyword(definition, ...rest);
    };
    instances.set(key, ajv);
  }
  return instances.get(key);
};
const validate = require("asl-validator");

const lines = require("readline").createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  const results = JSON.parse(line).map((definition) => {
    const { isValid, errors } = validate(definition, { checkPaths: true, checkArn: true });
    return isValid ? [] : errors.map((e) => `${e["Error code"]}: ${e.Message}`);
  });
  process.stdout.write(JSON.stringify(results) + "\n");
});
