/* Replacement for openh264's codec/common/src/WelsThreadLib.cpp on wasm32-wasi.
 *
 * The module is single-threaded and the engine runs openh264 with one thread, so the
 * encoder never needs real synchronisation: mutexes and events are no-ops, waits return
 * at once, and creating a thread fails (which openh264 reports as an encoder error). */
#include "WelsThreadLib.h"

extern "C" {

WELS_THREAD_ERROR_CODE WelsMutexInit(WELS_MUTEX *mutex) { (void)mutex; return WELS_THREAD_ERROR_OK; }
WELS_THREAD_ERROR_CODE WelsMutexLock(WELS_MUTEX *mutex) { (void)mutex; return WELS_THREAD_ERROR_OK; }
WELS_THREAD_ERROR_CODE WelsMutexUnlock(WELS_MUTEX *mutex) { (void)mutex; return WELS_THREAD_ERROR_OK; }
WELS_THREAD_ERROR_CODE WelsMutexDestroy(WELS_MUTEX *mutex) { (void)mutex; return WELS_THREAD_ERROR_OK; }

WELS_THREAD_ERROR_CODE WelsEventOpen(WELS_EVENT *p_event, const char *event_name)
{
    (void)event_name;
    *p_event = NULL;
    return WELS_THREAD_ERROR_OK;
}

WELS_THREAD_ERROR_CODE WelsEventClose(WELS_EVENT *event, const char *event_name)
{
    (void)event; (void)event_name;
    return WELS_THREAD_ERROR_OK;
}

WELS_THREAD_ERROR_CODE WelsEventSignal(WELS_EVENT *event, WELS_MUTEX *pMutex, int *iCondition)
{
    (void)event; (void)pMutex;
    if (iCondition) (*iCondition)--;
    return WELS_THREAD_ERROR_OK;
}

WELS_THREAD_ERROR_CODE WelsEventWait(WELS_EVENT *event, WELS_MUTEX *pMutex, int &iCondition)
{
    (void)event; (void)pMutex; (void)iCondition;
    return WELS_THREAD_ERROR_OK;
}

WELS_THREAD_ERROR_CODE WelsEventWaitWithTimeOut(WELS_EVENT *event, uint32_t dwMilliseconds, WELS_MUTEX *pMutex)
{
    (void)event; (void)dwMilliseconds; (void)pMutex;
    return WELS_THREAD_ERROR_WAIT_OBJECT_0;
}

WELS_THREAD_ERROR_CODE WelsMultipleEventsWaitSingleBlocking(uint32_t nCount, WELS_EVENT *event_list,
                                                            WELS_EVENT *master_event, WELS_MUTEX *pMutex)
{
    (void)nCount; (void)event_list; (void)master_event; (void)pMutex;
    return WELS_THREAD_ERROR_WAIT_FAILED;
}

WELS_THREAD_ERROR_CODE WelsThreadCreate(WELS_THREAD_HANDLE *thread, LPWELS_THREAD_ROUTINE routine, void *arg,
                                        WELS_THREAD_ATTR attr)
{
    (void)thread; (void)routine; (void)arg; (void)attr;
    return WELS_THREAD_ERROR_GENERAL;
}

WELS_THREAD_ERROR_CODE WelsThreadSetName(const char *thread_name) { (void)thread_name; return WELS_THREAD_ERROR_OK; }
WELS_THREAD_ERROR_CODE WelsThreadJoin(WELS_THREAD_HANDLE thread) { (void)thread; return WELS_THREAD_ERROR_GENERAL; }
WELS_THREAD_HANDLE WelsThreadSelf() { return WELS_THREAD_HANDLE(); }

WELS_THREAD_ERROR_CODE WelsQueryLogicalProcessInfo(WelsLogicalProcessInfo *pInfo)
{
    pInfo->ProcessorCount = 1;
    return WELS_THREAD_ERROR_OK;
}

void WelsSleep(uint32_t dwMilliSecond) { (void)dwMilliSecond; }

}
