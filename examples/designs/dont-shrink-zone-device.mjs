// A user design for `mmsim explore --design FILE`: vanilla 5.3 with the maintainer's answer in
// the 2019 thread — "we will rather stop shrinking the ZONE_DEVICE" — and nothing else.
// mmsim designs lists the steps a design may replace and what each must do; a replacement is a
// generator function given the model's own version (api.base) and helpers first.
export default {
  name: 'dont-shrink-zone-device',
  base: 'v5.3',
  summary: "v5.3, but shrink_zone_span returns at once for ZONE_DEVICE (the fix's core, without its other parts)",
  steps: {
    *shrink_zone_span(api, m, zone, start, end, search) {
      if (zone.name === 'Device') return;
      yield* api.base(m, zone, start, end, search);
    },
  },
};
