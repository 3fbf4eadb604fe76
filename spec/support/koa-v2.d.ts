// Koa 2 installed under an alias to test the peer range; its API is the one @types/koa describes.
declare module 'koa-v2' {
  import Koa from 'koa';
  export default Koa;
}
