// `import path from "x.so" with { type: "file" }`: Bun gives the file's path (extracted from the
// one-file build at run time).
declare module "*.so" {
  const path: string;
  export default path;
}
