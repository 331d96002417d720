import { describe, expect, it } from 'vitest';
import { timeLeftS, toCsv, toJson, type Analysis } from './export';

const a: Analysis = {
  id: 'a', fileName: 'clip.webm', fps: 10, totalFrames: 3, startedAt: 0,
  rows: [
    { frame: 1, time: 0, detections: [{ classId: 41, label: 'cup', score: 0.91234, x: 1.04, y: 2, w: 3, h: 4, track: 7 }, { classId: 41, label: 'cup', score: 0.31, x: 50, y: 2, w: 3, h: 4, track: null }] },
    { frame: 2, time: 0.1, detections: [] },
    { frame: 3, time: 0.2, detections: [], error: 'decode failed, "bad", frame' },
  ],
};

describe('analysis export', () => {
  it('CSV has one line per detection and every frame, quoted where needed', () => {
    expect(toCsv(a)).toBe('frame,time,label,score,x,y,w,h,track\n1,0,cup,0.9123,1,2,3,4,7\n1,0,cup,0.31,50,2,3,4,\n2,0.1,,,,,,,\n3,0.2,"error: decode failed, ""bad"", frame",,,,,,\n');
  });
  it('JSON lists every frame with its detections', () => {
    const j = JSON.parse(toJson(a));
    expect(j.frames).toBe(3);
    expect(j.results[0]).toEqual({ frame: 1, time: 0, detections: [{ label: 'cup', score: 0.9123, box: [1, 2, 3, 4], track: 7 }, { label: 'cup', score: 0.31, box: [50, 2, 3, 4], track: null }] });
    expect(j.results[2].error).toContain('decode failed');
  });
  it('estimates time left from the pace', () => {
    expect(timeLeftS(10, 30, 2000)).toBe(4);
    expect(timeLeftS(0, 30, 0)).toBeUndefined();
  });
});
