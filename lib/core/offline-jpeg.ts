// The picture a JPEG route shows while its live source is offline: 320x240, dark grey, "Camera offline" and
// "No signal" in DejaVu Sans Bold. A baseline JPEG (SOF0, 4:2:0) with its own standard Huffman tables, so that
// every engine (Safari included) and ffmpeg read it; 3670 bytes. Made once with Debian 12's ffmpeg 5.1:
//   ffmpeg -f lavfi -i color=c=0x303030:s=320x240:d=1 -frames:v 1 -vf "drawtext=fontfile=DejaVuSans-Bold.ttf:\
//     text='Camera offline':fontcolor=0xe0e0e0:fontsize=26:x=(w-text_w)/2:y=(h/2)-34,drawtext=fontfile=\
//     DejaVuSans-Bold.ttf:text='No signal':fontcolor=0xa0a0a0:fontsize=18:x=(w-text_w)/2:y=(h/2)+10" \
//     -q:v 8 -huffman default -pix_fmt yuvj420p -bitexact -flags +bitexact offline.jpg
// and kept here as base64, so that the package needs no file of its own at run time.

/** The built-in offline picture of JPEG routes. */
export const OFFLINE_JPEG: Buffer = Buffer.from([
  '/9j/4AAQSkZJRgABAgAAAQABAAD/2wBDAAgQEBMQExYWFhYWFhoYGhsbGxoaGhobGxsdHR0iIiIdHR0bGx0dICAiIiUmJSMjIiMm',
  'JigoKDAwLi44ODpFRVP/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsBAAMBAQEBAQEBAQEAAAAAAAABAgMEBQYHCAkK',
  'CxAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6',
  'Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJ',
  'ytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6EQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJ',
  'IzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeIiYqSk5SV',
  'lpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/wAARCADwAUADASIAAhEA',
  'AxEA/9oADAMBAAIRAxEAPwDy+iiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAK',
  'KKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKA',
  'CiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiii',
  'gAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAoo',
  'ooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAK',
  'KKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAq7HbTyjMcMrj1VGYfoK6XRLJLy',
  '5PmDKRruI7Mc8A+3f8K6LVNZngnaC3KxrHgE7VJJx0AIIAHTpQB5i8bxHDqyH0YEH9ahrorzU5r6NEm2koSQwGCcjuOn5YrdTRIs',
  'Dzb63jYgfLwTz/vOh/SgDgKK6nUNKl08K5ZZI2OA68c9cEe/bk1pWmhtd2gnWYAndhCnHykjl93HT+7QBwlFeiHw+7RF4LiKcj+F',
  'cYyOoD7iM/UCnJ4eZ0bbdRNIv3kXkKfQsGyPxWgDzmita3sp7qfyEX5xndngLg4JY+xrs/8AhHhnYLyLzcZ8vHP/AKHux77aAPNq',
  'K1ms5I7pbaT5GLqmeo+YgBh0yOc12E3h4wsublFjwd0jqECnsBlzkn6jpQB5zRXXJpYkuJohcRBItpMrcBgwyMckf+PVsDQFlU+R',
  'eQzMOwAx+JV3x+VAHnNFSujRsyMMMpKkehHBpEVnYKoJZiAAOpJ6CgCOivRR4f2KpuLqKBm6KcHn0yXXJ+maw73SpbF03spjdgok',
  'HQf7wPQ456496AM620+6uwTDEXA4zkKM+mWIFNexuY5hAYj5pGQgIY49flJH617fFbpDp3lR3SooU4uRgAZfJb7+Pb71Zel2yJcy',
  'y/bVu32bOoZtvyndnzHOM8UAeYy6TewgF4doZlUfPH95jgDhu5qjdWVxZlRMmzdnHzK2cdfuk16PfoRdRt9u83N1EPswb7nzf3RI',
  'fu4/uiqvif79v/uv/NaAOGudPurRFeaPYrHAO5Dk4z/CxNY1el61BdR28RmuvPUuML5SR4O085U5PpVZNAaS2jnWdfnVWIZdqqDy',
  'SX3HoPagDz2iu/n0JktzPDcJOFBY7RxgddpDMDj8K5yx0+a/crHgBeWZui//AFz2FAGHRXo58PbtyxXcUki9UxjH1wzEfiK8+kja',
  'J2RwVZSQQexFAENFFFABRRRQAUUUUAFFFFABRRRQAUUUUAd74fukguWRzgSrtBP94Hgfjz+NTaxpdz9qeWON5UkO75AWIPcEDnr3',
  '6V55XRRatfQrtWdsD+8Ff/0MGgBh06eIwmdTEssgQbvvdRk47Y969VubaCxWNYdOF1uyCdobGMfeYq55/AV47cXlxdkedIz46A9B',
  '9AMCtAatfhNguHxjH8O7/vrG79aAPUNcH/EtGUCYMfyDov8AsjAAwOnSqlmSuhORx+7n/wDQmrzKXUbqeEQySboxtwNqfw9OQu79',
  'aRNQukgNusmIiCNu1Ojdedu79aAPTfDZ/wBGm/66f+yisjw0SZrjJ6qpP/fVcTbahdWiskMmxWOSNqHJxj+JTUNteT2ZYwvsLDB+',
  'VWyP+BA0Aen6S6LqV+hxuaR9vuFkbIH5g1fdbWG6Mn2C9aUOW8xAzKSe4PnbcH0I/CvFzNI0pl3EOWLlh8p3E5JGMY59K3xrOoAY',
  '+0H/AL5Qn8yuaAOi1KYTalaHypImBiyJAoOPM4Pys3681b8Tsc2654w5x7/LXnD3M0komaRmkUghm5xtOR144PbpU91e3F4VMz79',
  'ucfKq4z1+6BQB3Gg2FvcJLLKgkKttCnoOM5x0OenPpXaac2+R8aeLMAY34VWbnpgIpx3zkivDre7ntGLQyFCeuMEH6g5B/KtT+17',
  '/f5nntuxt+6mMEg8Lt2joOcZoAj1X/j+uP8AfNGlSJHfQM+Au/GT0BIIB/MiseWV55GkkO5mOScAZP0GBVegD1fxBZ3M9xE8cbyL',
  'sC/KCcNuJOcdM5HNaOsnydLiikIMn7pfUllHzH/6/vXnMWrX0KhUnbA6ZCtj8WBNZM9xLctvldnPqT09h2H4UAesf8wD/tn/AO1a',
  'w/DX/HzL/wBcv/ZlrkP7Quvs/wBm8z91jG3anTOeu3d196gtruezYtC+wkYJ2q3HX+IGgDcn/wCQuf8Ar6X/ANDFdJ4n+/b/AO6/',
  '81rzlp5Gm84t+83b92B97Oc4xjr7YqzdXtxeFTM+/bnHyquM9fugUAen+I/+PSD/AK6D/wBANPvGI0KPHeOEfhla8xudQurtFSaT',
  'eqnIG1Bg4x/CoND6hdSQC3aTMQCgLtTovTkLu/WgD0zQ/wDkGT/70v8A6LWo/DMieVMn8e8NjuVIwPyOfzrzeDULq2iaKKTajEkj',
  'ahzkYPJUnoPWs2OWSFg8bMjDoVODQB7NB9ltZt0WnXyycjdtLA568mYqa851iQS3sjbGjPy5V9u4EKP7rMP1pTrWoEY88/8AfKZ/',
  'PbmudkkeVi7sWY9STkmgCGiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKK',
  'ACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKAOqtbBLmAvuYPkgcjbkd',
  'M8Z/WqcdorW00jbg8bYxxjjHXjP61pwuY9OZl4KyAj8GWtaRkksppU48wBmHo3AP8qAOJitJ5l3JGSPXgflkjNU3Ro2KuCpHY12U',
  'iNd29uICPkADDcAQcDk/Tn86z9UkR5VCkMVXDEeuelAGNDbTT58tC2Op4A/MkVYjt2SdI5Y2OT93IBYexyB+talkZGheMRpMhblN',
  '+xs4HP0/wq40UcV3bBCfdC27Z7ZoAwJLdnuHjijYY/hyCQMdzuI/Wo2s7hFZmjICfeOR/jz+FdhGw+03iZCu4Gw/8BP+IqqsbxWE',
  '6uRkHpkHb93jjj3xQBzK2dw4VljJD/d5H+PH41CbeVZBEVIc9Bxzn3ziuiuWIsLfBxk/yzV28jSW5t1kOFZOT09cDPuaAOYksbmJ',
  'SzRkAdSCpx+RNXBBH9hMu359+M5PTPpnH6V1sESRNKixBPlPPmFy49dvO2udH/IMP/XT+ooA5OiiigAooooAKKKKACiiigAooooA',
  'KKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAtQyLG2WjEgIxgkj8QR0NaMt5ui8mOMRITkgE',
  'sT+JrEooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigA',
  'ooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAoooo',
  'AKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKK',
  'KACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACi',
  'iigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigA',
  'ooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKAP/2Q=='
].join(''), 'base64')
