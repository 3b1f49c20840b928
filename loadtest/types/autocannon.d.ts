/** The subset of autocannon 9's API the load tools use (the package ships no types). */
declare module 'autocannon' {
  /** Options of one autocannon run. */
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    connections?: number;
    pipelining?: number;
    duration?: number;
    /** Requests in turn; `setupRequest` may change each one before it is sent. */
    requests?: Array<{ setupRequest?: (request: RawRequest) => RawRequest }>;
  }
  /** One request as `setupRequest` sees it. */
  interface RawRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }
  /** Percentile statistics autocannon reports. */
  interface Stats {
    /** sum over the run (requests: how many were answered) */
    total: number;
    average: number;
    mean: number;
    min: number;
    max: number;
    p50: number;
    p99: number;
  }
  /** The result of a run. */
  interface Result {
    url: string;
    requests: Stats;
    latency: Stats;
    throughput: Stats;
    errors: number;
    timeouts: number;
    non2xx: number;
  }
  /** Runs autocannon. */
  function autocannon(opts: Options): Promise<Result>;
  namespace autocannon {
    /** Formats a result as autocannon's tables. */
    function printResult(result: Result): string;
  }
  export = autocannon;
}
