import{c as a,d as b,e as c,f as d}from"./chunk-MYN556HL.js";import"./chunk-UB3OFH2N.js";import"./chunk-HQO7HB5E.js";export{a as RANGES,b as chartsToShow,d as default,c as useTimeControls};
