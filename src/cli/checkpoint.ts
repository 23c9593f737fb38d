// `checkpoint`: not built yet; the module that implements it replaces this file.
import { notImplemented } from "./not-implemented.ts";

export default notImplemented("checkpoint");
