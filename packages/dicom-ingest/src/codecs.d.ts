// jpeg-lossless-decoder-js names a types file it does not ship.
declare module "jpeg-lossless-decoder-js" {
  export class Decoder {
    decompress(buffer: ArrayBufferLike, offset: number, length: number): ArrayBuffer;
  }
}
