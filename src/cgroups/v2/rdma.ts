// v2 rdma: the same rdma.max file as v1.
export { rdma } from "../v1/rdma.ts";
