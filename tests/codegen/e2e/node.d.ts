// The two Node globals the end-to-end scripts use; the client itself needs
// neither (it compiles with `--lib ES2022` alone).
declare const process: { argv: string[]; exitCode?: number };
declare const console: { log(line: string): void };
