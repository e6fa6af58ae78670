export { elementCount, sameShape, shapeText } from './shape.js';
