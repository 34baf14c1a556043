// @ts-check
// The Chinese names staff use for the API's codes.

export const ROLES = /** @type {Record<string, string>} */ ({
  intake: '受理员', handler: '承办人', supervisor: '主管', analyst: '分析员', admin: '管理员',
});

export const STATUS = /** @type {Record<string, string>} */ ({
  triaged: '待派单', assigned: '已派单', handling: '办理中', replied: '已答复', followed_up: '已回访',
  closed: '已办结', returned: '已退单', suspended: '已挂起', withdrawn: '已撤诉', closed_abnormally: '异常结案',
});

export const ACTIONS = /** @type {Record<string, string>} */ ({
  assign: '派单', accept: '签收', return: '退单', reply: '答复', follow_up: '回访', close: '办结',
  reopen: '重办', suspend: '挂起', resume: '恢复办理', withdraw: '撤诉', close_abnormally: '异常结案',
  request_extension: '申请延期', grant_extension: '批准延期', refuse_extension: '驳回延期',
});

export const STEPS = /** @type {Record<string, string>} */ ({
  confirm: '签收', reply: '答复', close: '办结', follow_up: '回访',
});

export const CHANNELS = /** @type {Record<string, string>} */ ({
  phone: '电话', web: '网站', app: 'App', wechat: '微信', hotline_12345: '12345热线',
  hotline_12315: '12315热线', email: '电子邮件', letter: '信件', visit: '来访', other: '其他',
});

export const QUEUES = /** @type {Array<[string, string]>} */ ([
  ['mine', '我的待办'], ['department', '本部门'], ['dispatch', '待派单'],
  ['due_soon', '即将超时'], ['overdue', '已超时'], ['follow_up', '待回访'],
]);

export const DEADLINE = /** @type {Record<string, string>} */ ({
  open: '办理时限内', due_soon: '即将超时', breached: '已超时', met: '按时完成', met_late: '超时完成',
});

/** The name for a code from one of the maps, or the code itself. */
export function label(/** @type {Record<string, string>} */ map, /** @type {string | null | undefined} */ code) {
  return code ? map[code] ?? code : '';
}
