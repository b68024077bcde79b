// Minimal typings for redis-parser 3 (the package ships none).
declare module "redis-parser" {
  interface Options {
    returnReply(reply: unknown): void;
    returnError(err: Error): void;
    returnFatalError?(err: Error): void;
    returnBuffers?: boolean;
    stringNumbers?: boolean;
  }
  export default class RedisParser {
    constructor(options: Options);
    execute(buffer: Buffer): void;
    reset(): void;
  }
}
