// Applied by `npm ci` / `npm install` (package.json "postinstall"): fixes to aws-local-stepfunctions'
// bundle where the library differs from AWS. Filled in by the conformance work.
