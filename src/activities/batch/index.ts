export { setAsideItem } from './set-aside';
