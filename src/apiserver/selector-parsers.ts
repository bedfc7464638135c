// Adapts src/api/selectors to the generic REST layer.
import { parseFieldSelector } from '../api/selectors/fields.js';
import { matches, parseLabelSelector } from '../api/selectors/labels.js';
import type { SelectorParsers } from './resource-store.js';

export const selectorParsers: SelectorParsers = {
  labelSelector(text) {
    const selector = parseLabelSelector(text);
    return { matches: (labels) => matches(selector, labels) };
  },
  fieldSelector(text) {
    return parseFieldSelector(text).requirements;
  },
};
