// Reads a JSON list of state machine definitions on stdin and prints, as JSON, one list of asl-validator's
// findings per definition: one node process for every definition of a test module.
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

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((definition) => {
    const { isValid, errors } = validate(definition, { checkPaths: true, checkArn: true });
    return isValid ? [] : errors.map((e) => `${e["Error code"]}: ${e.Message}`);
  });
  process.stdout.write(JSON.stringify(results));
});
